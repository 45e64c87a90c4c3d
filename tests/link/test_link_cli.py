"""``python -m transforms.link``: two files in, one-to-one links out (real run)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transforms.config import LinkSettings
from transforms.keys import create_local_key_file
from transforms.synthetic import GenConfig, generate_chunk
from transforms.two_file.command import (
    cross_file_prior,
    main,
    one_to_one_probabilities,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """LEFT (DCC persons) and RIGHT (DCHS patients) of 3,000 synthetic people, the
    truth, and a key file."""
    d = tmp_path_factory.mktemp("cli")
    t = generate_chunk(GenConfig(people=3000, days=1, seed=5), 0)
    dcc = t["person"].to_pandas()
    dcc = dcc[dcc["record_status"] == "Active"]
    left = pd.DataFrame({
        "record_id": dcc["la_person_id"], "nhs_number": dcc["nhs_number"],
        "given_name": dcc["given_name"], "family_name": dcc["family_name"],
        "date_of_birth": dcc["date_of_birth"].astype(str), "sex": dcc["gender"],
        "postcode": dcc["postcode"], "address": dcc["address_line_1"],
    })  # fmt: skip
    dchs = t["patient.csv"].to_pandas().drop_duplicates("local_patient_id", keep="last")
    right = pd.DataFrame({
        "record_id": dchs["local_patient_id"], "nhs_number": dchs["nhs_number"],
        "given_name": dchs["given_name"], "family_name": dchs["family_name"],
        "date_of_birth": dchs["person_birth_date"], "sex": dchs["person_stated_gender_code"],
        "postcode": dchs["postcode"], "address": dchs["address_line_1"],
    })  # fmt: skip
    left.to_csv(d / "left.csv", index=False)
    right.to_parquet(d / "right.parquet", index=False)
    key = d / "key.json"
    create_local_key_file(key)
    truth = t["truth"].to_pandas()
    return d, key, truth


def run_cli(d: Path, key: Path, *extra: str) -> Path:
    out = d / f"links{len(extra)}.parquet"
    rc = main([str(d / "left.csv"), str(d / "right.parquet"), "--out", str(out),
               "--key-file", str(key), "-q", *extra])  # fmt: skip
    assert rc == 0
    return out


def test_cli_writes_one_to_one_links(files):
    d, key, truth = files
    out = run_cli(d, key, "--model-out", str(d / "model.json"), "--report", str(d / "r.html"))
    links = pd.read_parquet(out)
    assert list(links.columns) == ["record_id_l", "record_id_r", "match_probability"]
    assert len(links) > 100
    assert links["record_id_l"].is_unique and links["record_id_r"].is_unique
    assert links["record_id_l"].str.startswith("MOS").all()  # LEFT ids on the left
    assert links["record_id_r"].str.startswith("S1").all()
    assert links["match_probability"].is_monotonic_decreasing
    from transforms.two_file.command import ONE_TO_ONE_THRESHOLD

    assert (links["match_probability"] >= ONE_TO_ONE_THRESHOLD).all()
    tid = truth.set_index("source_record_id")["true_person_id"]
    right = (
        tid.reindex(links["record_id_l"]).to_numpy() == tid.reindex(links["record_id_r"]).to_numpy()
    )
    assert right.mean() >= 0.99
    assert (d / "model.json").exists() and (d / "r.html").exists()
    saved = json.loads((d / "model.json").read_text())
    assert saved["_care_meta"]["prior_over"] == "cross-file pairs"  # what scored the pairs
    assert saved["_care_meta"]["u_without_matches"] is True


def test_cli_reuses_model_and_many_to_many(files):
    d, key, _ = files
    model = d / "model.json"
    if not model.exists():
        run_cli(d, key, "--model-out", str(model))
    out = run_cli(d, key, "--model", str(model), "--no-one-to-one", "--threshold", "0.5")
    links = pd.read_parquet(out)
    assert (links["match_probability"] >= 0.5).all()


def test_cli_without_key_fails_clearly(files, tmp_path):
    d, _, _ = files
    env = {k: v for k, v in os.environ.items()
           if k not in ("CARE_PSEUDONYMISATION_KEY", "CARE_KEY_FILE")}  # fmt: skip
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "transforms.link", str(d / "left.csv"), str(d / "right.parquet"),
         "--out", str(tmp_path / "x.parquet")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "key" in proc.stderr.lower()
    assert not (tmp_path / "x.parquet").exists()


def test_cross_file_prior_counts_only_left_by_right_pairs():
    """Two de-duplicated files: every match is a cross pair, so the prior estimated over
    the union's C(n, 2) pairs is re-expressed over n_left * n_right."""
    model = {"probability_two_random_records_match": 1e-4, "_care_meta": {"seed": 1}}
    got = cross_file_prior(model, 5000, 5000)
    union, cross = 10_000 * 9_999 / 2, 5000 * 5000
    assert got["probability_two_random_records_match"] == pytest.approx(1e-4 * union / cross)
    assert got["_care_meta"] == {"seed": 1, "prior_over": "cross-file pairs"}
    assert model["probability_two_random_records_match"] == 1e-4  # the input is untouched
    # lopsided files: 10 x 10,000 cross pairs are few of the union's, the prior grows more
    lopsided = cross_file_prior(model, 10, 10_000)["probability_two_random_records_match"]
    assert lopsided == pytest.approx(1e-4 * (10_010 * 10_009 / 2) / 100_000)
    assert cross_file_prior(model, 0, 10) is model


def test_one_to_one_probabilities_are_capped_for_look_alikes():
    """Two files of the same two people: both links are near-certain, but a look-alike's
    link stays at or below its cap; no pairs, or an empty file: nothing."""
    prior, n = 1e-3, 2
    pairs = pd.DataFrame({
        "record_id_l": ["a", "b"], "record_id_r": ["x", "y"],
        "match_probability": [0.9, 0.9], "probability_cap": [np.nan, 0.9],
    })  # fmt: skip
    got = one_to_one_probabilities(pairs, prior, n, n)
    assert got[0] > 0.999 and got[1] == 0.9
    assert one_to_one_probabilities(pairs.iloc[:0], prior, n, n).size == 0
    assert one_to_one_probabilities(pairs, prior, 0, n).tolist() == [0.0, 0.0]


def test_cli_links_carry_the_one_to_one_probabilities(files):
    """The command's probabilities are those of one_to_one_probabilities over every
    scored cross-file pair, not the pairwise ones, and each record is in one link."""
    from transforms.two_file.command import (
        cross_file_pairs,
        link_files,
        load_cli_key,
        read_people,
    )

    d, key_file, _ = files
    left, right = read_people(d / "left.csv"), read_people(d / "right.parquet")
    key = load_cli_key(key_file)
    links, scored, model = link_files(left, right, key, link_settings=LinkSettings.from_env())
    cross = cross_file_pairs(scored)
    assert (cross["match_probability"] < 0.5).any()  # every candidate pair, as rivals
    prior = model["probability_two_random_records_match"]
    post = one_to_one_probabilities(cross, prior, len(left), len(right))
    keys = list(zip(cross["record_id_l"], cross["record_id_r"], strict=True))
    want = dict(zip(keys, post, strict=True))
    pairwise = dict(zip(keys, cross["match_probability"], strict=True))
    linked = list(zip(links["record_id_l"], links["record_id_r"], strict=True))
    assert links["match_probability"].to_numpy() == pytest.approx([want[k] for k in linked])
    assert any(pairwise[k] != want[k] for k in linked)
    assert links["record_id_l"].is_unique and links["record_id_r"].is_unique
