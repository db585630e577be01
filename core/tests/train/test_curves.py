"""metrics.csv and losses.png beside metrics.jsonl: written at every checkpoint and at the end of a fit."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
from PIL import Image
from train_testutils import TinyD, TinyG, tiny_cfg, tiny_dataset

from ganlab.core.train import Trainer
from ganlab.core.train.curves import curves_png, metrics_csv


def _trainer(tmp_path, **over):
    cfg = tiny_cfg(tmp_path, **over)
    return Trainer(
        cfg, run_dir=tmp_path / "r", dataset=tiny_dataset(), models=lambda: (TinyG(), TinyD()), resume="auto"
    )


def _read_csv(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, list(reader)


def _same_table(jsonl_records, header, rows):
    """The csv holds the jsonl's rows in order and the union of its keys as columns, values unchanged."""
    columns = []
    for r in jsonl_records:
        columns += [k for k in r if k not in columns]
    assert header == columns and header[0] == "step"
    assert len(rows) == len(jsonl_records)
    for rec, row in zip(jsonl_records, rows):
        cells = dict(zip(header, row))
        for key in header:
            if key not in rec:
                assert cells[key] == ""
            elif isinstance(rec[key], (dict, list)):
                assert json.loads(cells[key]) == rec[key]
            elif isinstance(rec[key], str):
                assert cells[key] == rec[key]
            else:  # numbers round-trip exactly through their shortest repr
                assert float(cells[key]) == rec[key]


def _valid_png(path):
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] >= 400 and im.size[1] >= 200
        pixels = np.asarray(im.convert("L"))
    assert pixels.std() > 0  # something is drawn


def test_fit_writes_csv_and_png_beside_the_jsonl(tmp_path):
    t = _trainer(tmp_path, train__steps=6, train__log_every=2, train__checkpoint_every=4)
    t.fit()
    run = tmp_path / "r"
    records = t.run_dir.read_metrics()
    assert [r["step"] for r in records] == [2, 4, 6] and all("d_loss" in r for r in records)
    _same_table(records, *_read_csv(run / "metrics.csv"))
    _valid_png(run / "losses.png")


def test_each_checkpoint_redraws_the_pictures(tmp_path):
    t = _trainer(tmp_path, train__steps=4, train__log_every=1, train__checkpoint_every=2)
    t.fit(stop_at=2)  # the checkpoint at step 2 and the end of this fit
    run = tmp_path / "r"
    assert [int(r[0]) for r in _read_csv(run / "metrics.csv")[1]] == [1, 2]
    (run / "metrics.csv").unlink()
    t.logbook.write_curves()  # the log has not changed since: nothing is redrawn
    assert not (run / "metrics.csv").exists()
    t.train_step()
    t._flush_logs()
    t.save_checkpoint()  # a checkpoint outside fit draws the log as it is now
    assert [int(r[0]) for r in _read_csv(run / "metrics.csv")[1]] == [1, 2, 3]
    t.close()


def test_csv_of_mixed_records_keeps_every_row_and_column():
    records = [
        {"step": 2, "d_loss": 1.25, "g_loss": -0.125, "lr_G": 0.0002},
        {"step": 2, "metric": "fid", "value": 51.5, "n_fake": 64, "extractor": "random:lenet", "opts": {"k": 3}},
        {"step": 4, "d_loss": 0.1 + 0.2, "g_loss": 1e-12, "d_class_loss": 0.7},
        {"step": 4, "metric": "precision", "value": 0.5, "k": [1, 2]},
    ]
    text = metrics_csv(records)
    header, rows = next(csv.reader(io.StringIO(text))), list(csv.reader(io.StringIO(text)))[1:]
    _same_table(records, header, rows)
    assert metrics_csv([]) == "step\n"


def test_png_has_a_row_of_metric_panels_when_metrics_were_evaluated():
    losses = [{"step": s, "d_loss": 1.0 / s, "g_loss": float(s)} for s in range(1, 20)]
    evals = [{"step": s, "metric": m, "value": v} for s in (5, 10) for m, v in (("fid", 40.0 / s), ("recall", 0.1))]
    plain = Image.open(io.BytesIO(curves_png(losses)))
    with_metrics = Image.open(io.BytesIO(curves_png(losses + evals)))
    assert with_metrics.size[0] == plain.size[0] and with_metrics.size[1] > plain.size[1]
    empty = Image.open(io.BytesIO(curves_png([])))  # a run that has logged nothing yet still gets a picture
    assert empty.format == "PNG"
