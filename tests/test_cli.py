"""The command line: ``bpcore train`` runs, and bad options are refused by name."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bpcore.cli import build_parser, main


def test_train_runs_and_prints_the_test_accuracy(capsys):
    # a tiny network for two epochs: seconds, not the full default run
    code = main(["train", "--epochs", "2", "--hidden", "8", "--lr", "0.01", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "network [64, 8, 10]" in out
    match = re.search(r"test accuracy: (\d+\.\d+)%", out)
    assert match, out
    # 2 epochs of Adam on the digits already beat chance (10%) by far
    assert 30.0 < float(match.group(1)) <= 100.0


def test_default_config_reaches_97_percent(capsys):
    # The documented promise of `bpcore train`: [64, 64, 10], momentum 0.05, 30 epochs, batch
    # 32, seed 0 reaches >= 97% on the fixed test split. About 2 s here (5 s on a loaded
    # 2-core machine): the only test that trains the full default network.
    assert main(["train", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert ("network [64, 64, 10] (relu), Momentum(lr=0.05, beta=0.9), 30 epochs, "
            "batch size 32") in out
    accuracy = float(re.search(r"test accuracy: (\d+\.\d+)%", out).group(1))
    assert accuracy >= 97.0


def test_train_accepts_every_optimizer_and_several_hidden_layers(capsys):
    for name in ("sgd", "momentum", "rmsprop", "adam"):
        code = main(["train", "--epochs", "1", "--hidden", "4", "3", "--optimizer", name,
                     "--batch-size", "64", "--no-progress", "--lr", "0.01"])
        assert code == 0
        out = capsys.readouterr().out
        assert "network [64, 4, 3, 10]" in out and "test accuracy:" in out


def test_progress_bar_goes_to_stderr(capsys):
    main(["train", "--epochs", "1", "--hidden", "4"])
    captured = capsys.readouterr()
    assert "test accuracy:" in captured.out
    assert "training" in captured.err  # tqdm writes to stderr, stdout stays clean


@pytest.mark.parametrize("argv, option", [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "two"], "--epochs"),
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "-0.1"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--hidden", "64", "0"], "--hidden"),
    (["train", "--batch-size", "0"], "--batch-size"),
    (["train", "--optimizer", "lbfgs"], "--optimizer"),
])
def test_bad_options_exit_with_code_2_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_parser_lists_train():
    help_text = build_parser().format_help()
    assert "train" in help_text


def test_python_dash_m_bpcore_runs():
    result = subprocess.run([sys.executable, "-m", "bpcore", "train", "--epochs", "0"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "argument --epochs: must be at least 1" in result.stderr


# -- MNIST: bpcore data mnist, bpcore train --data mnist --------------------------------------

@pytest.mark.parametrize("argv, option", [
    (["train", "--data", "imagenet"], "--data"),
    (["train", "--data"], "--data"),
    (["train", "--data", "mnist", "--epochs", "0"], "--epochs"),
    (["train", "--data", "mnist", "--limit", "0"], "--limit"),
    (["train", "--data", "mnist", "--limit", "many"], "--limit"),
    (["data", "cifar10"], "dataset"),
    (["data", "mnist", "--quiet", "--loud"], None),
])
def test_bad_mnist_options_exit_with_code_2_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert (f"argument {option}" if option else "unrecognized arguments: --loud") in err


def test_data_needs_a_dataset(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["data"])
    assert exc.value.code == 2
    assert "the following arguments are required: dataset" in capsys.readouterr().err


def test_data_mnist_prints_where_the_files_are(tmp_path, monkeypatch, capsys):
    from bpcore.nn import mnist

    seen = {}

    def fake_fetch(cache_dir=None, progress=True):
        seen["progress"] = progress
        return tmp_path / "mnist"

    monkeypatch.setattr(mnist, "fetch_mnist", fake_fetch)
    assert main(["data", "mnist", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert seen["progress"] is False
    assert f"MNIST is in {tmp_path / 'mnist'}" in out
    assert "train-images.idx3-ubyte" in out and "6bbc9ace898e44ae57da46a324031adb" in out
    assert main(["data", "mnist"]) == 0 and seen["progress"] is True


def test_data_mnist_exits_1_with_the_error(monkeypatch, capsys):
    from bpcore.nn import mnist

    def unavailable(cache_dir=None, progress=True):
        raise mnist.MNISTUnavailableError("could not be fetched: set BPCORE_DATA")

    monkeypatch.setattr(mnist, "fetch_mnist", unavailable)
    assert main(["data", "mnist"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bpcore data mnist: could not be fetched: set BPCORE_DATA" in captured.err


def test_train_mnist_exits_1_when_mnist_cannot_be_had(tmp_path, monkeypatch, capsys):
    from bpcore.nn import mnist

    def unavailable(cache_dir=None, progress=True):
        raise mnist.MNISTUnavailableError("could not be fetched: set BPCORE_DATA")

    monkeypatch.setenv("BPCORE_DATA", str(tmp_path))  # an empty cache
    monkeypatch.setattr(mnist, "fetch_mnist", unavailable)
    assert main(["train", "--data", "mnist", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "bpcore train --data mnist: could not be fetched" in captured.err
    assert "test accuracy" not in captured.out


def test_train_mnist_reports_each_epoch_and_the_test_accuracy(capsys, monkeypatch):
    from bpcore import cli
    from bpcore.nn.mnist import mnist_cache_dir, mnist_in_cache

    if not mnist_in_cache():
        pytest.skip(f"MNIST is not in the cache ({mnist_cache_dir()}): `bpcore data mnist` "
                    "fetches it")
    monkeypatch.setattr(cli, "MNIST_HALVE_EVERY", 1)  # to see the halving in 2 epochs
    code = main(["train", "--data", "mnist", "--epochs", "2", "--limit", "3000",
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert ("network [784, 64, 10] (relu), Momentum(lr=0.05, beta=0.9), 2 epochs, batch size "
            "32, seed 0, learning rate halved every 1 epochs; MNIST (full): 3000 training, "
            "10001 validation and 10000 test images") in out
    epochs = re.findall(r"epoch (\d)/2: lr (0\.\d+), training loss \d\.\d{4}, validation "
                        r"accuracy (\d+\.\d\d)% \((\d+\.\d\d) s\)", out)
    assert [e[:2] for e in epochs] == [("1", "0.05"), ("2", "0.025")], out
    assert re.search(r"median time per epoch: \d+\.\d\d s", out)
    test = float(re.search(r"test accuracy: (\d+\.\d+)%", out).group(1))
    # 3,000 images, 2 epochs: far above chance (10%), below a full run
    assert 80.0 < test < 99.0
    assert out.index("epoch 2/2") < out.index("test accuracy")  # the test set, once, at the end
    assert out.count("test accuracy") == 1


def test_train_limit_applies_to_the_digits_too(capsys):
    assert main(["train", "--epochs", "1", "--hidden", "4", "--limit", "100",
                 "--no-progress"]) == 0
    assert "100 training and 450 test digits" in capsys.readouterr().out


def test_parser_lists_data():
    help_text = build_parser().format_help()
    assert "data" in help_text and "fetch a data set" in help_text
    train_help = build_parser().parse_args(["train"])  # defaults unchanged for the digits
    assert train_help.data == "digits" and train_help.epochs is None and train_help.limit is None


# -- bpcore check -----------------------------------------------------------------------------
WRONG_TANH = '''import numpy as np


class MyTanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return (dout * (self.y ** 2 - 1),)


class RightTanh(MyTanh):
    def backward(self, dout):
        return (dout * (1 - self.y ** 2),)
'''


def test_check_command_reports_a_diagnosis_and_exits_1(tmp_path, capsys):
    file = tmp_path / "my_tanh.py"
    file.write_text(WRONG_TANH)
    assert main(["check", f"{file}:MyTanh", "--against", "Tanh"]) == 1
    out = capsys.readouterr().out
    assert "x: the sign is wrong (a factor -1)" in out
    assert main(["check", f"{file}:RightTanh", "--against", "Tanh"]) == 0
    assert "the witnesses agree" in capsys.readouterr().out
    assert main(["check", f"{file}:RightTanh", "--shape", "2,3"]) == 0


def test_check_command_misuse_exits_2_with_a_message(tmp_path, capsys):
    file = tmp_path / "my_tanh.py"
    file.write_text(WRONG_TANH)
    assert main(["check", f"{file}:Nothing"]) == 2
    assert "has no 'Nothing'" in capsys.readouterr().err
    assert main(["check", f"{file}:MyTanh", "--against", "NoSuchNode"]) == 2
    assert "bpcore has no node or layer 'NoSuchNode'" in capsys.readouterr().err
    assert main(["check", f"{file}:MyTanh"]) == 2  # no inputs, no reference: nothing to run
    assert "nothing to run the check on" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["check", f"{file}:MyTanh", "--shape", "0,3"])
    assert exc.value.code == 2
