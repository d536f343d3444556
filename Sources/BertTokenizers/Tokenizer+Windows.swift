extension Tokenizer {
    /// Splits a text too long for the model into overlapping windows, each with the special
    /// tokens: Hugging Face's `tokenizer(text, truncation=True, max_length=maxLength,
    /// stride=overlap, return_overflowing_tokens=True)`, i.e. tokenizers' `Encoding::truncate`
    /// with direction right. Each window holds at most `maxLength` tokens; consecutive windows
    /// share `overlap` content tokens, so window k starts at k · (budget − overlap) where budget
    /// is `maxLength` minus the special tokens. A text that fits gives one window.
    ///
    /// With a pair, only the first text is windowed and the pair goes whole into every window
    /// (HF's `only_first`); nil when the pair leaves no room for more than `overlap` tokens of
    /// the text, or when `overlap` is not below the budget.
    /// Windows' `offsets` stay offsets into the whole text.
    public func encodeWindows(_ text: String, pair: String? = nil, maxLength: Int, overlap: Int) -> [Encoding]? {
        let (first, second) = sequences(text, pair: pair)
        let budget = maxLength - postProcessor.addedTokenCount(isPair: second != nil) - (second?.ids.count ?? 0)
        guard overlap >= 0, budget > overlap else { return nil }
        let n = first.ids.count
        // tokenizers/src/tokenizer/encoding.rs `truncate`: starts step by budget − stride until
        // a part reaches the end.
        var windows: [Encoding] = []
        var start = 0
        repeat {
            let stop = min(start + budget, n)
            var part = TokenSink()
            part.ids = Array(first.ids[start..<stop])
            part.offsets = Array(first.offsets[start..<stop])
            windows.append(postProcessor.apply(part, second, truncated: 0, vocabulary: vocabulary))
            if stop == n { break }
            start += budget - overlap
        } while true
        return windows
    }
}
