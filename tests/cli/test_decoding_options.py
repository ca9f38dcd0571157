"""`--decoding NAME --set key=value`: validated by the strategy's own fields; the older flags and
the mtp / eagle / diffusion names are aliases that build the same strategy."""

import json

import pytest

from perfsim.cli.app import run
from perfsim.cli.decoding import DecodingChoice
from perfsim.decoding import Autoregressive, BlockDiffusion, Speculative, TiDAR
from perfsim.errors import PerfsimInputError


def choice(name=None, *settings, **flags):
    return DecodingChoice(name, settings, flags)


@pytest.mark.parametrize("alias, settings", [
    (choice("eagle", k=3, acceptance=0.7), choice("speculative", "draft=eagle", "k=3", "acceptance=0.7")),
    (choice("mtp", mean_accepted=2.5), choice("speculative", "draft=mtp", "mean_accepted_tokens=2.5")),
    (choice("speculative", draft="qwen3-0.6b", acceptance=0.6, tree_width=4),
     choice("speculative", "draft=qwen3-0.6b", "acceptance=0.6", "tree_width=4")),
    (choice("diffusion", tokens_per_step=2.0, no_kv_cache=True),
     choice("block_diffusion", "tokens_per_step=2", "kv_cache=false")),
    (choice("diffusion", block_size=64, sub_block=16, steps_per_block=8),
     choice("block_diffusion", "block_size=64", "sub_block_size=16", "steps_per_block=8")),
    (choice("tidar", draft_len=8, tokens_per_forward=3.0),
     choice("tidar", "draft_len=8", "tokens_per_forward=3")),
])
def test_aliases_build_the_same_strategy_as_set(alias, settings):
    assert alias.strategy() == settings.strategy()


def test_defaults_and_values():
    assert choice().strategy() == Autoregressive()
    assert choice("eagle", acceptance=0.7).strategy() == Speculative(k=4, acceptance=0.7, draft="eagle")
    assert choice("speculative", "acceptance=0.8,0.7", "k=2").strategy().acceptance == (0.8, 0.7)
    spread = choice("diffusion", "distribution=[[1, 0.5], [2, 0.5]]").strategy()
    assert isinstance(spread, BlockDiffusion) and spread.expected_tokens() == 1.5
    assert isinstance(choice("tidar", tokens_per_forward=2.0).strategy(), TiDAR)
    assert choice("eagle", "k=3").strategy({"acceptance": 0.5}).acceptance == 0.5
    assert choice("eagle", "mean_accepted_tokens=2").strategy(
        {"acceptance": 0.5}, unless=("mean_accepted_tokens",)).acceptance is None


@pytest.mark.parametrize("given, needle", [
    (choice("speculative", "kk=3"), "speculative has no parameter 'kk'; it takes: k, acceptance"),
    (choice("speculative", "k=1.5", "acceptance=0.7"), "--set k=1.5: speculative k must be an integer"),
    (choice("speculative", "k=abc"), "k must be an integer"),
    (choice("speculative", "acceptance=high", "k=2"), "acceptance must be"),
    (choice("speculative", "k"), "use key=value"),
    (choice("autoregressive", "k=3"), "autoregressive has no parameter 'k'; it takes no parameters"),
    (choice(None, k=3), "--k does not apply to --decoding autoregressive"),
    (choice("tidar", k=3), "--k does not apply to --decoding tidar; it takes: draft_len"),
    (choice("tidar"), "--decoding tidar needs --tokens-per-forward"),
    (choice("beam"), "--decoding 'beam' is unknown; allowed: autoregressive"),
    (choice("eagle", "draft=mtp", acceptance=0.7), "draft is given twice"),
    (choice("speculative", "k=3", k=4, acceptance=0.7), "k is given twice (--k and --set)"),
    (choice("speculative", "k=0", "acceptance=0.7"), "k (draft length) must be an integer from 1 to 64"),
])
def test_bad_settings_are_one_sentence(given, needle):
    with pytest.raises(PerfsimInputError) as info:
        given.strategy()
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_cli_flags_and_set_print_the_same_numbers(capsys):
    base = ["predict", "-m", "qwen3-8b", "-h", "h100-sxm", "--json"]
    rows = []
    for extra in (["--decoding", "eagle", "--k", "3", "--acceptance", "0.7"],
                  ["--decoding", "speculative", "--set", "k=3", "--set", "acceptance=0.7"]):
        assert run([*base, *extra]) == 0
        rows.append(json.loads(capsys.readouterr().out))
    assert rows[0] == rows[1] and rows[0][0]["decoding"].startswith("speculative (eagle, k=3")


def test_cli_bad_set_is_status_2(capsys):
    assert run(["predict", "-m", "qwen3-8b", "-h", "h100-sxm", "--decoding", "speculative",
                "--set", "k=x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set k=x") and len(err.strip().splitlines()) == 1
