#!/usr/bin/env python3
"""Reference for the few-shot head (BertBaselines' EmbeddingClassifier): scikit-learn's
LogisticRegression(C=1.0) — SetFit's default head — fitted on seeded dense rows that look like
sentence embeddings (unit vectors), binary and 3-class, solved tightly (tol 1e-10, max_iter 10000)
so that the optimum, not the solver's path, is compared.

Needs: numpy, scikit-learn. CI never runs it. usage: generate_embedding_head.py OUT_JSON
Written: {"cases": [{"name", "classes", "rows" (N x D), "labels", "coef" (R x D), "intercept" (R),
"proba" (N x K)}], "versions"}.
"""
import json, sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression


def case(name, classes, n, d, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, d))
    labels = np.arange(n) % classes
    x = centres[labels] + 1.5 * rng.normal(size=(n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x = x.astype(np.float32).astype(np.float64)  # what bertd's float32 embeddings hold
    lr = LogisticRegression(C=1.0, tol=1e-10, max_iter=10000).fit(x, labels)
    return dict(name=name, classes=classes, rows=x.tolist(), labels=labels.tolist(), coef=lr.coef_.tolist(),
                intercept=lr.intercept_.tolist(), proba=lr.predict_proba(x).tolist())


def main(out):
    cases = [case("binary", 2, 32, 16, 1), case("three_classes", 3, 48, 16, 2)]
    with open(out, "w") as f:
        json.dump(dict(cases=cases, versions=dict(scikit_learn=sklearn.__version__, numpy=np.__version__)), f)


if __name__ == "__main__":
    main(sys.argv[1])
