"""``ganlab icgan ...``: features, neighbours, kmeans, train, sample, transfer, evaluate, params (reproductions:
``ganlab repro run icgan/EXP``).

ganlab icgan features --dataset image_folder --root photos/ --resolution 64 --extractor swav --out-dir runs/feats
ganlab icgan neighbours runs/feats --k 50 --out-file runs/nbrs.npz
ganlab icgan train run.yaml --run-dir runs/icgan method.options.features=runs/feats method.options.neighbours=...
ganlab icgan kmeans runs/feats -n 1000 --out-file runs/stored.npz
ganlab icgan sample --run-dir runs/icgan --instances runs/stored.npz --out-file sheet.png
ganlab icgan transfer --run-dir runs/icgan other_photos/ --out-file transfer.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganlab.core.config import SCALES


def _dataset(args: argparse.Namespace):
    from ganlab.core.cli import parse_key_values as _parse_kv
    from ganlab.core.data import get_dataset

    return get_dataset(
        args.dataset, root=args.root, split=args.split, resolution=args.resolution, **_parse_kv(args.dataset_option)
    )


def _features(args: argparse.Namespace) -> int:
    from ganlab.core.cli import parse_key_values as _parse_kv
    from ganlab.icgan.features import extract_instance_features, resolve_extractor

    ext = resolve_extractor(args.extractor, _parse_kv(args.extractor_option))  # missing weights fail before data
    ds = _dataset(args)
    feats = extract_instance_features(
        ds,
        ext,
        args.out,
        flip=not args.no_flip,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        device=args.device,
        overwrite=args.overwrite,
    )
    print(json.dumps({"out": args.out, "n": len(feats), "dim": feats.dim, "fingerprint": feats.fingerprint}))
    return 0


def _neighbours(args: argparse.Namespace) -> int:
    from ganlab.icgan.features import InstanceFeatures
    from ganlab.icgan.neighbours import compute_neighbourhoods

    feats = InstanceFeatures.load(args.features)
    nb = compute_neighbourhoods(feats, args.k, batch_size=args.batch_size, device=args.device)
    nb.save(args.out)
    print(json.dumps({"out": args.out, "n": len(nb), "k": nb.k, "mean_radius": float(nb.radii.mean())}))
    return 0


def _kmeans(args: argparse.Namespace) -> int:
    import numpy as np

    from ganlab.icgan.features import InstanceFeatures
    from ganlab.icgan.instances import select_instances
    from ganlab.icgan.neighbours import Neighbourhoods

    feats = InstanceFeatures.load(args.features)
    nb = labels = None
    if args.neighbours:
        nb = Neighbourhoods.load(args.neighbours, feats)
        if args.labels_from:
            labels = np.asarray(_dataset_named(args.labels_from).labels)
    stored = select_instances(
        feats, args.num, method=args.selection, seed=args.seed, neighbourhoods=nb, labels=labels, device=args.device
    )
    stored.save(args.out)
    print(json.dumps({"out": args.out, "stored": len(stored), "selection": args.selection}))
    return 0


def _dataset_named(spec: str):
    from ganlab.core.data import get_dataset

    name, _, res = spec.partition("@")
    return get_dataset(name, resolution=int(res) if res else None)


def _train(args: argparse.Namespace) -> int:
    import ganlab.icgan.methods  # noqa: F401
    from ganlab.core.config import load_config
    from ganlab.core.errors import ConfigError
    from ganlab.core.train.config import ExperimentConfig
    from ganlab.core.train.trainer import Trainer

    base = {"method": {"name": "icgan"}}
    if args.config and "=" in args.config and not args.config.endswith((".yaml", ".yml")):
        args.overrides, args.config = [args.config, *args.overrides], None
    scale = args.scale if args.config else None
    cfg = load_config(ExperimentConfig, args.config, args.overrides, scale=scale, base=base)
    if cfg.method.name not in ("icgan", "icgan_baseline"):
        raise ConfigError(f"ganlab icgan train trains the icgan method, but the config says {cfg.method.name!r}")
    trainer = Trainer(cfg, run_dir=args.run_dir, resume=args.resume, allow_config_change=args.allow_config_change)
    summary = trainer.fit()
    print(json.dumps({**summary, "run_dir": str(trainer.run_dir.path)}, indent=2))
    return 0


def _stored(args: argparse.Namespace, run):
    from ganlab.icgan.instances import StoredInstances, select_instances

    if args.instances:
        return StoredInstances.load(args.instances, run.features)
    labels = run.dataset().labels if run.class_conditional else None
    return select_instances(
        run.features,
        min(args.n_instances, len(run.features)),
        method="kmeans",
        neighbourhoods=run.neighbourhoods,
        labels=labels,
    )


def _sample(args: argparse.Namespace) -> int:
    import torch

    from ganlab.core.images import write_samples
    from ganlab.core.results import atomic_write_bytes
    from ganlab.icgan.api import load_run
    from ganlab.icgan.generate import generate, images_png, instance_sheet

    run = load_run(args.run, device=args.device)
    stored = _stored(args, run)
    out = Path(args.out)
    if out.suffix == ".png" and args.num is None:  # a Figure-1 sheet: instance image, then samples
        rows = min(args.rows, len(stored))
        images = run.dataset().get_batch(stored.indices[:rows])["image"] if stored.indices is not None else None
        labels = torch.from_numpy(stored.neighbour_labels[:rows, 0]) if stored.neighbour_labels is not None else None
        sheet = instance_sheet(
            run.G,
            torch.from_numpy(stored.features[:rows]),
            images,
            args.per_instance,
            labels=labels,
            seed=args.seed,
            device=args.device,
        )
        atomic_write_bytes(out, images_png(sheet, args.per_instance + (images is not None)))
        print(json.dumps({"out": str(out), "rows": rows}))
        return 0
    samples = generate(run.G, stored, args.num or 64, seed=args.seed, device=args.device)
    write_samples(samples, out)
    print(json.dumps({"out": str(out), "n": len(samples["image"])}))
    return 0


def _transfer(args: argparse.Namespace) -> int:
    import torch

    from ganlab.core.results import atomic_write_bytes
    from ganlab.icgan.api import load_run
    from ganlab.icgan.features import extractor_of
    from ganlab.icgan.generate import images_png, instance_sheet
    from ganlab.icgan.transfer import folder_instances

    run = load_run(args.run, device=args.device)
    ext = extractor_of(run.features)
    G = run.G
    stored, imgs = folder_instances(
        args.folder, ext, resolution=G.resolution, channels=G.channels, device=args.device, limit=args.limit
    )
    labels = None
    if run.class_conditional:
        if args.label is None:
            from ganlab.core.errors import ConfigError

            raise ConfigError("a class-conditional IC-GAN needs --label CLASS for transfer samples")
        labels = torch.full((len(stored),), int(args.label))
    sheet = instance_sheet(
        G,
        torch.from_numpy(stored.features),
        imgs.images,
        args.per_instance,
        labels=labels,
        seed=args.seed,
        device=args.device,
    )
    atomic_write_bytes(Path(args.out), images_png(sheet, args.per_instance + 1))
    if args.save_instances:
        stored.save(args.save_instances)
    print(json.dumps({"out": args.out, "images": len(stored), "skipped": len(imgs.skipped)}))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ganlab.core.results import RunDir
    from ganlab.icgan.api import load_run
    from ganlab.icgan.evaluate import evaluate_generator

    run = load_run(args.run, device=args.device)
    stored = _stored(args, run)
    d = run.cfg.data
    split = args.split or d.split
    from ganlab.core.data import get_dataset

    reference = get_dataset(d.name, root=d.root, split=split, resolution=d.resolution, **d.options)
    records = []
    for seed in args.seeds:
        rec = {
            "run": str(args.run),
            "step": run.step,
            "seed": seed,
            "stored": len(stored),
            "selection": stored.meta.get("selection"),
        }
        rec.update(
            evaluate_generator(
                run.G,
                stored,
                reference,
                metrics=args.metrics,
                extractor=args.extractor,
                n_fake=args.n_fake,
                n_real=args.n_real,
                n_prdc=args.n_prdc,
                lpips_pairs=args.lpips_pairs,
                seed=seed,
                split=split,
                device=args.device,
            )
        )
        records.append(rec)
    out = RunDir(Path(args.run) / "eval")
    out.write_results(records, title=f"IC-GAN evaluation of {args.run}")
    print((out.path / "summary.md").read_text())
    return 0


def _params(args: argparse.Namespace) -> int:
    from ganlab.core.nn import param_counts
    from ganlab.core.results import records_to_markdown
    from ganlab.icgan.presets import OFFICIAL_RUNS, expected_difference, official_counts

    rows = []
    for r in OFFICIAL_RUNS:
        ours, off, diff = param_counts(r.preset, **r.options), official_counts(r), expected_difference(r)
        rows.append(
            {
                "config": r.name,
                "preset": r.preset,
                "G": ours["G"],
                "D": ours["D"],
                "official_G": off["G"],
                "official_D": off["D"],
                "exact": diff["G"] == 0 and ours["G"] == off["G"] and ours["D"] == off["D"],
            }
        )
    print(records_to_markdown(rows, "IC-GAN official configs: trainable parameters, ours vs the official code"))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from ganlab.core.cli import add_config_out_dir, add_num, add_out, add_overrides_argument, add_run
    from ganlab.core.repro import add_repro_command

    parser = subparsers.add_parser(
        "icgan", help="Instance-Conditioned GAN (Casanova, Careil, Verbeek, Drozdzal, Romero-Soriano; NeurIPS 2021)"
    )
    sub = parser.add_subparsers(dest="icgan_command", metavar="ACTION")

    f = sub.add_parser("features", help="instance features (and of the flipped images) of a dataset, to a folder")
    f.add_argument("--dataset", required=True, help="dataset name (image_folder for any folder of images)")
    f.add_argument("--root", default=None)
    f.add_argument("--split", default="train")
    f.add_argument("--resolution", type=int, default=None, help="the training resolution (features are computed at it)")
    f.add_argument("--dataset-option", action="append", default=[], metavar="KEY=VALUE")
    f.add_argument("--extractor", default="swav", help="core extractor: swav, resnet50, classifier:<path>, ...")
    f.add_argument("--extractor-option", action="append", default=[], metavar="KEY=VALUE")
    add_out(f, "dir", "output folder", required=True)
    f.add_argument("--no-flip", action="store_true", help="skip the flipped-image features")
    f.add_argument("--batch-size", type=int, default=256)
    f.add_argument("--num-workers", type=int, default=0)
    f.add_argument("--device", default=None)
    f.add_argument("--overwrite", action="store_true")
    f.set_defaults(func=_features)

    n = sub.add_parser("neighbours", help="k cosine nearest neighbours of every instance (self excluded)")
    n.add_argument("features", help="a feature folder")
    n.add_argument("--k", type=int, default=50)
    add_out(n, "file", "output .npz", required=True)
    n.add_argument("--batch-size", type=int, default=16384, help="queries per faiss search")
    n.add_argument("--device", default=None)
    n.set_defaults(func=_neighbours)

    k = sub.add_parser("kmeans", help="stored instances: the real instance nearest each k-means centroid")
    k.add_argument("features", help="a feature folder")
    add_num(k, "stored instances (centroids)", default=1000)
    k.add_argument("--selection", choices=("kmeans", "random", "all"), default="kmeans")
    k.add_argument("--seed", type=int, default=1234, help="faiss k-means seed (1234 = faiss's default)")
    k.add_argument("--neighbours", default=None, help="keep the neighbours' labels (class-conditional sampling)")
    k.add_argument("--labels-from", default=None, metavar="DATASET[@RES]", help="dataset whose labels to keep")
    add_out(k, "file", "output .npz", required=True)
    k.add_argument("--device", default=None)
    k.set_defaults(func=_kmeans)

    t = sub.add_parser("train", help="train an IC-GAN (core training config; method.options as ICGANOptions)")
    t.add_argument("config", nargs="?", help="YAML training config")
    t.add_argument("--scale", choices=SCALES, default=None)
    t.add_argument("--resume", action="store_true")
    t.add_argument("--allow-config-change", action="store_true")
    t.add_argument("--run-dir", default=None, help="the run folder (default: <out_dir>/<config name>)")
    add_config_out_dir(t)
    add_overrides_argument(t)
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="samples or an instance sheet from a trained run")
    add_run(s, "run directory")
    s.add_argument("--instances", default=None, help="stored instances (.npz); default: k-means of the run's features")
    s.add_argument("--n-instances", type=int, default=1000)
    add_out(s, "either", "sheet .png (default), .npz or a folder with -n", required=True)
    add_num(s, "number of samples (instead of a sheet)")
    s.add_argument("--rows", type=int, default=8)
    s.add_argument("--per-instance", type=int, default=3)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default="cpu")
    s.set_defaults(func=_sample)

    tr = sub.add_parser("transfer", help="condition a trained run on the images of any folder")
    add_run(tr, "run directory")
    tr.add_argument("folder", help="folder of images (unreadable files are skipped and counted)")
    add_out(tr, "file", "sheet .png", required=True)
    tr.add_argument("--label", type=int, default=None, help="class for a class-conditional model")
    tr.add_argument("--limit", type=int, default=16, help="at most this many images")
    tr.add_argument("--per-instance", type=int, default=3)
    tr.add_argument("--save-instances", default=None, help="also save the folder's features as stored instances")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--device", default="cpu")
    tr.set_defaults(func=_transfer)

    e = sub.add_parser("evaluate", help="FID / IS / P-R-D-C / LPIPS of a run with stored-instance conditionings")
    add_run(e, "run directory")
    e.add_argument("--metrics", nargs="+", default=["fid"], help="fid is precision recall density coverage lpips")
    e.add_argument("--extractor", default="inception", help="evaluation network (inception_torchvision: PyTorch FID)")
    e.add_argument("--split", default=None, help="reference split (the paper: val; default: the training split)")
    e.add_argument("--instances", default=None, help="stored instances (.npz); default: k-means of the run's features")
    e.add_argument("--n-instances", type=int, default=1000)
    e.add_argument("--n-fake", type=int, default=50000)
    e.add_argument("--n-real", type=int, default=None)
    e.add_argument("--n-prdc", type=int, default=10000)
    e.add_argument("--lpips-pairs", type=int, default=0)
    e.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="noise seeds (the paper: five)")
    e.add_argument("--device", default="cpu")
    e.set_defaults(func=_evaluate)

    p = sub.add_parser("params", help="parameter counts of every official config, ours vs the official code")
    p.set_defaults(func=_params)

    add_repro_command(sub, "icgan")
    parser.set_defaults(func=lambda args: (parser.print_help(), 0)[1])
