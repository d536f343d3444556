import BertTraining

extension LinearBaselineOptions {
    /// The options a daemon job's settings or `bertctl train --method baseline-linear` give
    /// (TrainingSettings.linearBaseline: `c`, `min_df`, `max_features`, `char_ngrams`, `loss`
    /// weighted for balanced class weights).
    public init(settings: TrainingSettings.LinearBaselineSettings, threads: Int) {
        self.init()
        c = settings.c
        minDF = settings.minDF
        maxFeatures = settings.maxFeatures
        charNgrams = settings.charNgrams ? 3...5 : nil
        classWeight = settings.balanced ? .balanced : .none
        self.threads = max(threads, 1)
    }
}
