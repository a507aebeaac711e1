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
