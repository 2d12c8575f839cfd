"""``ocr``: read the text of page images with RapidOCR's pipeline on int8 engines.

The three int8 models (detector, orientation classifier, recognizer) come from
``--models DIR``.  Where DIR lacks them they are made first: RapidOCR's float models
quantized on the ``--calibrate`` pages (by default scikit-image's scanned page and
text photo; pages like yours give better accuracy) and written to DIR, so later runs
start at once."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gpu_int8.config import load_config
from gpu_int8.errors import GpuInt8Error

STAGES = ("det", "cls", "rec")


def add_parser(sub) -> None:
    p = sub.add_parser("ocr", help="read the text of page images (RapidOCR's pipeline on int8 engines)",
                       description=__doc__)
    p.add_argument("-i", "--input", action="append", required=True, metavar="IMAGE", help="a page image")
    p.add_argument("--models", metavar="DIR",
                   help="folder of det_int8.xml, cls_int8.xml and rec_int8.xml (made there if missing; "
                        "default: rapidocr-int8 in the config's cache folder)")
    p.add_argument("--calibrate", nargs="+", metavar="PAGE",
                   help="page images to quantize the models on, where --models lacks them")
    p.add_argument("-c", "--config", help="YAML config: device, precision, cache folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rapidocr_onnxruntime.utils.load_image import LoadImageError

    from gpu_int8.pipelines import int8_rapidocr, quantize_rapidocr

    cfg = load_config(args.config)
    for path in [*args.input, *(args.calibrate or [])]:
        _check_image(path)  # before minutes of quantizing, not after
    folder = Path(args.models) if args.models else cfg.cache_path / "rapidocr-int8"
    models = [folder / f"{stage}_int8.xml" for stage in STAGES]
    present = [m for m in models if m.is_file() or m.with_suffix(".bin").is_file()]
    complete = all(m.is_file() and m.with_suffix(".bin").is_file() for m in models)
    if present and not complete:
        raise GpuInt8Error(f"{folder} holds only part of the int8 models ({', '.join(p.name for p in present)}); "
                           f"give a --models folder with all three (.xml and .bin) or none")
    if not present:
        pages = args.calibrate or _default_pages()
        what = f"{len(args.calibrate)} page(s)" if args.calibrate else "scikit-image's scanned page and text photo"
        print(f"quantizing RapidOCR's det, cls and rec models on {what} into {folder} ...", flush=True)
        start = time.perf_counter()
        quantize_rapidocr(pages, folder)
        print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)
    elif args.calibrate:
        raise GpuInt8Error(f"{folder} already holds the int8 models; --calibrate makes new ones only "
                           f"in a folder without them (choose another --models folder)")
    ocr = int8_rapidocr(*models, cfg)
    for path in args.input:
        start = time.perf_counter()
        try:
            result, elapse = ocr(path)
        except LoadImageError as exc:
            raise GpuInt8Error(f"{path}: not an image RapidOCR reads ({exc})") from None
        seconds = time.perf_counter() - start
        lines = result or []
        print(f"\n{path}: {len(lines)} line(s) in {seconds * 1e3:.0f} ms "
              f"(det {elapse[0] * 1e3:.0f}, cls {elapse[1] * 1e3:.0f}, rec {elapse[2] * 1e3:.0f} ms)"
              if lines else f"\n{path}: no text found ({seconds * 1e3:.0f} ms)")
        for box, text, score in lines:
            corner = ",".join(str(int(v)) for v in box[0])
            print(f"  {score:5.3f}  at {corner:>9}  {text}")
    print(f"\ndevice: {ocr.gpu_int8_engines['rec'].device}")
    return 0


def _check_image(path: str) -> None:
    from PIL import Image, UnidentifiedImageError

    if not Path(path).is_file():
        raise GpuInt8Error(f"no image file {path}")
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise GpuInt8Error(f"{path}: not an image Pillow can read ({exc})") from None


def _default_pages() -> list:
    import numpy as np
    import skimage.data

    return [np.ascontiguousarray(np.stack([image] * 3, axis=-1))
            for image in (skimage.data.page(), skimage.data.text())]
