#!/usr/bin/env python3
"""Talk to a running bertd: ping, list the models, classify zero-shot, embed.

    python3 example.py                                  # tcp://127.0.0.1:5555
    python3 example.py --endpoint ipc:///run/bertd/bertd.sock
    BERTD_ENDPOINT=tcp://127.0.0.1:5599 python3 example.py
"""

import argparse
import os
import sys

from bertd_client import BertdClient, BertdError, BertdUnavailable


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=os.environ.get("BERTD_ENDPOINT", "tcp://127.0.0.1:5555"))
    parser.add_argument("--timeout-ms", type=int, default=5000)
    args = parser.parse_args()

    with BertdClient(args.endpoint, timeout_ms=args.timeout_ms, retries=2, overload_retries=3) as client:
        try:
            print("bertd", client.ping()["version"], "at", args.endpoint)
            for m in client.models()["models"]:
                head = f"labels {m['labels']}" if m["can_classify"] else "no head (zero-shot and embed)"
                print(f"  model {m['name']} v{m['version']}: {m['family']}, {m['parameters']:,} parameters, {head}")

            reviews = ["A warm, funny and beautifully acted film.",
                       "Two hours of my life I will never get back.",
                       "The pasta was overcooked and the service slow."]
            labels = ["positive review", "negative review"]
            result = client.classify(reviews, labels=labels, deadline_ms=args.timeout_ms - 500)
            for text, r in zip(reviews, result["results"]):
                print(f"  {r['label']:<16} {r['score']:.2f}  {text}")

            e = client.embed(["a cat sat on the mat", "a kitten rested on the rug", "stock prices fell sharply"])
            a, b, c = e["embeddings"]
            dot = lambda x, y: sum(p * q for p, q in zip(x, y))
            print(f"  cosine(cat, kitten) = {dot(a, b):.2f}, cosine(cat, stocks) = {dot(a, c):.2f} ({e['dimension']} dimensions)")
        except BertdError as e:
            print(f"bertd refused: {e.code}: {e.message}", file=sys.stderr)
            return 1
        except BertdUnavailable as e:
            print(f"bertd is unreachable: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
