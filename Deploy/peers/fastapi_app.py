"""The design people build today, for bertd's HTTP benchmark to compare with in the same run:
FastAPI + uvicorn + a transformers pipeline("text-classification") on the same model directory.

    MODEL=models/all-MiniLM-L6-v2 uvicorn --app-dir Deploy/peers fastapi_app:app --port 8001 --workers 1

POST /predict {"inputs": "text"} → [{"label": …, "score": …}] (TEI's shape). A model without a
classification head gets a randomly initialised one (transformers warns): the compute is the
same encoder forward per text that bertd does, which is what is measured. Not used in CI; the
set-up (a venv with torch, transformers, fastapi, uvicorn) is in Deploy/httpbench.sh.
"""

import os

import torch
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import pipeline

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
classifier = pipeline("text-classification", model=os.environ["MODEL"], device="cpu", top_k=None)
app = FastAPI()


class Predict(BaseModel):
    inputs: str | list[str]


@app.post("/predict")
def predict(body: Predict):
    # A sync endpoint: FastAPI runs it in its thread pool, as most deployments do.
    return classifier(body.inputs)


@app.get("/healthz")
def healthz():
    return {"status": "alive"}
