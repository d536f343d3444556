#!/usr/bin/env python3
"""Reference numbers for the linear baseline (Sources/BertBaselines): TF-IDF word and char_wb
n-grams in a FeatureUnion and LogisticRegression(solver="lbfgs") from scikit-learn, on a small
synthetic corpus made here from word lists (no text of shared/data), plus tables of Python's
str semantics the analyzers rest on.

Needs: scikit-learn, numpy, scipy (pip). CI never runs it: the files it writes are the fixtures
(README.md beside this file describes them).

usage: generate_baseline.py OUT_DIR
  written: OUT_DIR/baseline_parity.json, OUT_DIR/python_text.json, OUT_DIR/versions.json

baseline_parity.json
  analyzers      tricky strings and sklearn's word (1, 2) and char_wb (3, 5) analyzer output for each
  cases          one entry per fit (see CASES): the settings, train and test texts and labels, both
                 vocabularies in column order, both idf arrays, FeatureUnion rows of some train and
                 test texts (sparse: columns, values), coef_ and intercept_, the objective sklearn
                 minimizes evaluated at its solution, n_iter_, and predict_proba, decision_function
                 and predict on the test texts
python_text.json
  assigned       code-point ranges [first, last] Python's unicodedata knows (category != Cn, no
                 surrogates): the Swift test compares only these
  word           ranges where re's \\w matches (str.isalnum() or "_")
  space          code points where str.isspace()
  lower          [code point, [code points of chr(cp).lower()]] wherever lower() changes it
  lower_strings  [text, text.lower()] with Final_Sigma contexts

The corpus is deterministic (random.Random(SEED)); every run writes byte-identical files on one
machine. The max_features cut of each vectorizer falls where the total counts are not tied: sklearn
ranks terms with numpy's unstable argsort, so which tied term survives a tied cut is not specified.

Importing this module has no side effects.
"""
import argparse, json, os, platform, random, re, sys, unicodedata

sys.dont_write_bytecode = True

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.pipeline import FeatureUnion  # noqa: E402
from sklearn.utils.class_weight import compute_class_weight  # noqa: E402

SEED = 20240601

TOPICS = {
    "food": ["café", "crème", "brûlée", "soup", "bread", "recipe", "oven", "spice", "pasta", "naïve",
             "chef", "flour", "butter", "taste", "dinner", "Käse", "jalapeño", "sushi"],
    "sport": ["match", "goal", "team", "coach", "league", "score", "player", "stadium", "İstanbul",
              "race", "medal", "Straße", "keeper", "ΟΔΟΣ", "final", "season", "tennis", "fußball"],
    "tech": ["server", "kernel", "compiler", "cpu", "memory", "thread", "cache", "linux", "naïve",
             "bug", "patch", "latency", "ÉCOLE", "byte", "network", "東京", "driver", "x86_64"],
}
SHARED = ["the", "a", "is", "and", "of", "new", "very", "good", "bad", "today", "we", "I", "it",
          "½", "2²", "Ⅻ", "🙂", "l'été", "co-op", "e\u0301te\u0301", "ΣΟΦΟΣ", "Ωμέγα"]
TEMPLATES = [
    "{a} {b} {s} {c}",
    "{s} {a} and {b}, {c}!",
    "{A} {s}\t{b}  {c} {s}",
    "{a}-{b} {s} {s} {c}.",
    "{s}\u00a0{a} {b}\u2009{c}",
    "{a} {b} {c} {s} {a}",
    "{s} {s} {a}\u001f{b}",
]


def sentence(rng, topic, noise=0.25):
    """One synthetic text about `topic`; with probability `noise` a word comes from another topic."""
    def word(t):
        if rng.random() < noise:
            t = rng.choice(sorted(TOPICS))
        return rng.choice(TOPICS[t])
    fill = {"a": word(topic), "b": word(topic), "c": word(topic), "A": word(topic).upper()}
    template = rng.choice(TEMPLATES)
    while "{s}" in template:
        template = template.replace("{s}", rng.choice(SHARED), 1)
    return template.format(**fill)


def corpus(rng, n, classes):
    texts, labels = [], []
    for _ in range(n):
        label = rng.choice(classes)
        texts.append(sentence(rng, label))
        labels.append(label)
    return texts, labels


def multilabel_corpus(rng, n, labels):
    texts, sets = [], []
    for _ in range(n):
        k = rng.choice([1, 1, 2, 2, 3])
        chosen = sorted(rng.sample(labels, k))
        parts = [sentence(rng, t, noise=0.1) for t in chosen]
        texts.append(" ".join(parts))
        sets.append(chosen)
    return texts, sets


def union(options):
    word = TfidfVectorizer(analyzer="word", ngram_range=tuple(options["word_ngram_range"]), min_df=options["min_df"],
                           max_features=options["max_features"], sublinear_tf=True, lowercase=True,
                           token_pattern=r"(?u)\b\w\w+\b")
    blocks = [("word", word)]
    if options["char_ngram_range"] is not None:
        blocks.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(options["char_ngram_range"]),
                                               min_df=options["min_df"], max_features=options["max_features"],
                                               sublinear_tf=True, lowercase=True)))
    return FeatureUnion(blocks)


def tie_free_max_features(texts, options, target):
    """The largest k <= target at which neither vectorizer's cut falls inside a run of equal totals."""
    totals = []
    for name, v in union(dict(options, max_features=None)).transformer_list:
        counts = TfidfVectorizer(**{**v.get_params(), "use_idf": False, "norm": None, "sublinear_tf": False}).fit_transform(texts)
        totals.append(np.sort(np.asarray(counts.sum(axis=0)).ravel())[::-1])
    for k in range(target, 0, -1):
        if all(len(t) <= k or t[k - 1] != t[k] for t in totals):
            return k
    raise SystemExit("no tie-free max_features")


def objective(X, coef, intercept, y, sample_weight, C, binary):
    """sklearn's lbfgs objective: (1/S) sum s_i loss_i + ||W||^2 / (2 C S) (intercept not penalized)."""
    Z = X @ coef.T + intercept
    if binary:
        z = Z[:, 0]
        losses = np.logaddexp(0, z) - y * z
    else:
        m = Z.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]
        losses = lse - Z[np.arange(len(y)), y]
    S = sample_weight.sum()
    return float((sample_weight * losses).sum() / S + 0.5 / (C * S) * (coef ** 2).sum())


def sparse_rows(X, indices):
    out = []
    for i in indices:
        row = X[[i]].tocoo()
        order = np.argsort(row.col)
        out.append({"index": int(i), "columns": row.col[order].tolist(), "values": row.data[order].tolist()})
    return out


def sample_weights(y_ids, classes, class_weight):
    if class_weight is None:
        return np.ones(len(y_ids)), [1.0] * len(classes)
    w = compute_class_weight(class_weight, classes=np.arange(len(classes)), y=np.asarray(y_ids))
    return w[np.asarray(y_ids)], w.tolist()


CASES = [
    # name, task, classes, n_train, n_test, options (LinearBaselineOptions' keys), max_features target
    ("multiclass", "single", ["food", "sport", "tech"], 240, 90,
     dict(word_ngram_range=[1, 2], char_ngram_range=[3, 5], min_df=2, C=4.0, class_weight=None, max_iter=1000, tol=1e-6), None),
    ("multiclass_balanced_limited", "single", ["food", "sport", "tech"], 200, 60,
     dict(word_ngram_range=[1, 2], char_ngram_range=[3, 5], min_df=2, C=1.0, class_weight="balanced", max_iter=1000, tol=1e-6), 100),
    ("binary", "single", ["food", "tech"], 160, 60,
     dict(word_ngram_range=[1, 2], char_ngram_range=[3, 5], min_df=2, C=1.0, class_weight=None, max_iter=1000, tol=1e-4), None),
    ("binary_balanced_word_only", "single", ["sport", "tech"], 150, 50,
     dict(word_ngram_range=[1, 3], char_ngram_range=None, min_df=1, C=10.0, class_weight="balanced", max_iter=1000, tol=1e-6), None),
    ("multilabel", "multi", ["food", "sport", "tech"], 200, 60,
     dict(word_ngram_range=[1, 2], char_ngram_range=[3, 5], min_df=2, C=2.0, class_weight=None, max_iter=1000, tol=1e-6), None),
    ("multilabel_balanced", "multi", ["food", "sport", "tech"], 200, 60,
     dict(word_ngram_range=[1, 2], char_ngram_range=[2, 4], min_df=3, C=1.0, class_weight="balanced", max_iter=1000, tol=1e-6), 80),
]


def run_case(rng, name, task, classes, n_train, n_test, options, max_features_target):
    if task == "single":
        # Make the binary cases unbalanced, so "balanced" weights differ from 1.
        texts, labels = corpus(rng, n_train + n_test, classes if len(classes) > 2 else [classes[0]] * 2 + [classes[1]])
        train_x, test_x = texts[:n_train], texts[n_train:]
        label_ids = [classes.index(l) for l in labels]
        train_y, test_y = label_ids[:n_train], label_ids[n_train:]
    else:
        texts, sets = multilabel_corpus(rng, n_train + n_test, classes)
        train_x, test_x = texts[:n_train], texts[n_train:]
        Y = np.array([[1 if c in s else 0 for c in classes] for s in sets])
        train_y, test_y = Y[:n_train], Y[n_train:]
    options = dict(options, max_features=None)
    if max_features_target is not None:
        options["max_features"] = tie_free_max_features(train_x, options, max_features_target)

    fu = union(options)
    X = fu.fit_transform(train_x).tocsr()
    X_test = fu.transform(test_x).tocsr()
    lr = LogisticRegression(C=options["C"], class_weight=options["class_weight"], max_iter=options["max_iter"],
                            tol=options["tol"], solver="lbfgs")
    out = {"name": name, "task": "single_label_classification" if task == "single" else "multi_label_classification",
           "labels": classes, "options": options,
           "train": {"texts": train_x}, "test": {"texts": test_x}}
    if task == "single":
        model = lr.fit(X, np.asarray(train_y))
        assert list(model.classes_) == list(range(len(classes)))
        sw, cw = sample_weights(train_y, classes, options["class_weight"])
        objectives = [objective(X, model.coef_, model.intercept_, np.asarray(train_y), sw, options["C"], len(classes) == 2)]
        n_iter = [int(model.n_iter_[0])]
        class_weights = [cw]
        coef, intercept = model.coef_, model.intercept_
        proba, decision, predicted = model.predict_proba(X_test), model.decision_function(X_test), model.predict(X_test)
        out["train"]["labels"], out["test"]["labels"] = train_y, test_y
    else:
        model = OneVsRestClassifier(lr).fit(X, train_y)
        objectives, n_iter, class_weights = [], [], []
        for k, est in enumerate(model.estimators_):
            yk = train_y[:, k]
            sw, cw = sample_weights(yk.tolist(), [0, 1], options["class_weight"])
            objectives.append(objective(X, est.coef_, est.intercept_, yk, sw, options["C"], True))
            n_iter.append(int(est.n_iter_[0]))
            class_weights.append(cw)
        coef = np.vstack([e.coef_ for e in model.estimators_])
        intercept = np.concatenate([e.intercept_ for e in model.estimators_])
        proba, decision, predicted = model.predict_proba(X_test), model.decision_function(X_test), model.predict(X_test)
        out["train"]["label_sets"] = [[c for c, v in zip(classes, row) if v] for row in train_y.tolist()]
        out["test"]["label_sets"] = [[c for c, v in zip(classes, row) if v] for row in test_y.tolist()]
    word, char = fu.transformer_list[0][1], (fu.transformer_list[1][1] if len(fu.transformer_list) > 1 else None)

    def vocab(v):
        terms = [None] * len(v.vocabulary_)
        for t, j in v.vocabulary_.items():
            terms[j] = t
        assert terms == sorted(terms)
        return terms
    out.update({
        "word_vocabulary": vocab(word), "word_idf": word.idf_.tolist(),
        "char_vocabulary": vocab(char) if char else None, "char_idf": char.idf_.tolist() if char else None,
        "features": X.shape[1],
        "train_rows": sparse_rows(X, range(0, n_train, max(1, n_train // 12))),
        "test_rows": sparse_rows(X_test, range(0, n_test, max(1, n_test // 6))),
        "coef": coef.tolist(), "intercept": intercept.tolist(),
        "objective": objectives, "n_iter": n_iter, "class_weights": class_weights,
        "test_proba": proba.tolist(), "test_decision": decision.tolist(),
        "test_predicted": predicted.tolist(),
    })
    return out


ANALYZER_STRINGS = [
    "Hello, World! a b cd",
    "café naïve Straße ÉCOLE",
    "cafe\u0301 decomposed e\u0301",
    "İstanbul ΟΔΟΣ ΣΟΦΟΣ. Σ σ ΑΣ-ΒΣ",
    "x86_64 foo_bar _ __ 2² ½ Ⅻ ①",
    "tabs\tand  double  spaces\u00a0nbsp\u2009thin\u001fsep\u200bzw",
    "東京 タワー 🙂🙂 emoji🙂word",
    "I a it's l'été co-op",
    "",
    "   ",
    "a",
    "ab",
]


def analyzers():
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2)).build_analyzer()
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).build_analyzer()
    char_short = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).build_analyzer()
    return [{"text": s, "word": word(s), "char_wb_3_5": char(s), "char_wb_1_3": char_short(s)} for s in ANALYZER_STRINGS]


def ranges(predicate):
    out, start = [], None
    for c in range(0x110000 + 1):
        ok = c < 0x110000 and predicate(c)
        if ok and start is None:
            start = c
        elif not ok and start is not None:
            out.append([start, c - 1])
            start = None
    return out


def python_text():
    def assigned(c):
        return not (0xD800 <= c <= 0xDFFF) and unicodedata.category(chr(c)) != "Cn"
    word = re.compile(r"\w")
    lower = []
    for c in range(0x110000):
        if assigned(c) and chr(c).lower() != chr(c):
            lower.append([c, [ord(x) for x in chr(c).lower()]])
    sigma = ["ΟΔΟΣ", "ΣΟΦΟΣ.", "Σ", "ΑΣ-ΒΣ", "ΑΣ'", "Σ'Α", "AΣ\u0301", "AΣ\u0301B", "ΑΣΑ", "x Σ y", "ΌΣΟΣ ΝΑ"]
    return {
        "unicode_version": unicodedata.unidata_version,
        "assigned": ranges(assigned),
        "word": ranges(lambda c: assigned(c) and bool(word.match(chr(c)))),
        "space": [c for c in range(0x110000) if assigned(c) and chr(c).isspace()],
        "lower": lower,
        "lower_strings": [[s, s.lower()] for s in sigma],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    args = ap.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    rng = random.Random(SEED)
    cases = [run_case(rng, *c) for c in CASES]
    parity = {"seed": SEED, "analyzers": analyzers(), "cases": cases}
    with open(os.path.join(args.out_dir, "baseline_parity.json"), "w", encoding="utf-8") as f:
        json.dump(parity, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(args.out_dir, "python_text.json"), "w", encoding="utf-8") as f:
        json.dump(python_text(), f, separators=(",", ":"))
        f.write("\n")
    versions = {"python": platform.python_version(), "unicode": unicodedata.unidata_version, "scikit-learn": sklearn.__version__,
                "numpy": np.__version__, "scipy": scipy.__version__}
    with open(os.path.join(args.out_dir, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1)
        f.write("\n")
    for c in cases:
        print(f"{c['name']:30s} features {c['features']:5d} (word {len(c['word_vocabulary'])}, char "
              f"{len(c['char_vocabulary'] or [])}) max_features {c['options']['max_features']} n_iter {c['n_iter']} "
              f"objective {[round(o, 6) for o in c['objective']]}")


if __name__ == "__main__":
    main()
