"""DataTransform on FATE's example files: every input format gives the matrix a plain parse gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accord.components.data_transform import DataTransformParam
from accord.errors import ComponentFeatureUnsupported, DataFormatError
from accord.storage import UploadConf
from tests.components.transform_support import (
    DATA,
    GUEST,
    HOST,
    harness,
    raw_from_file,
    raw_from_lines,
    run_failing,
    run_transform,
    transform_job,
)


def _header_of(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


@pytest.mark.parametrize("name", ["breast_hetero", "default_credit_hetero"])
def test_dense_guest_and_host_give_loadtxt_matrix(tmp_path: Path, name: str) -> None:
    guest_file, host_file = DATA / f"{name}_guest.csv", DATA / f"{name}_host.csv"
    guest, host, guest_model, host_model = run_transform(
        tmp_path,
        (raw_from_file(guest_file), {"with_label": True}),
        (raw_from_file(host_file), {"with_label": False}),
    )
    guest_ref = np.loadtxt(guest_file, delimiter=",", skiprows=1)
    host_ref = np.loadtxt(host_file, delimiter=",", skiprows=1)

    assert np.array_equal(guest.features(), guest_ref[:, 2:])
    assert np.array_equal(guest.labels(), guest_ref[:, 1])  # type: ignore[arg-type]
    assert list(guest.ids()) == [line.split(",")[0] for line in guest_file.read_text().splitlines()[1:]]
    assert list(guest.header) == _header_of(guest_file)[2:]
    assert guest.label_name == "y" and guest.sid_name == "id"
    assert guest.extra["output_format"] == "dense"

    assert np.array_equal(host.features(), host_ref[:, 1:])
    assert host.labels() is None
    assert list(host.header) == _header_of(host_file)[1:]

    assert guest_model["header"] == list(guest.header) and host_model["header"] == list(host.header)
    assert guest_model["label_name"] == "y" and host_model["label_name"] is None


def test_float_label_and_module_alias_dataio(tmp_path: Path) -> None:
    guest_file = DATA / "motor_hetero_guest.csv"
    params = {
        "with_label": True,
        "label_name": "motor_speed",
        "label_type": "float",
        "output_format": "sparse",
    }
    guest, host, _, _ = run_transform(
        tmp_path,
        (raw_from_file(guest_file), params),
        (raw_from_file(DATA / "motor_hetero_host.csv"), {}),
        module="DataIO",
    )
    reference = np.loadtxt(guest_file, delimiter=",", skiprows=1)
    assert np.array_equal(guest.labels(), reference[:, 1])  # type: ignore[arg-type]
    assert np.array_equal(guest.features(), reference[:, 2:])
    assert guest.label_name == "motor_speed" and guest.sid_name == "idx"
    # Features leave as dense float64 whatever output_format says; the format is kept for what follows.
    assert guest.extra["output_format"] == "sparse"
    assert host.features().shape[0] == reference.shape[0]


def _svmlight_reference(path: Path, with_label: bool) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The testsuite uploads with head 1, so the first line is the header and the rest are rows."""
    ids, labels, cells = [], [], []
    for line in path.read_text().splitlines()[1:]:
        fields = line.split(",")
        ids.append(fields[0])
        rest = fields[1:]
        if with_label:
            labels.append(float(rest[0]))
            rest = rest[1:]
        cells.append({int(k): float(v) for k, v in (field.split(":") for field in rest if field)})
    width = max(max(row) for row in cells) + 1
    matrix = np.zeros((len(cells), width))
    for i, row in enumerate(cells):
        for k, v in row.items():
            matrix[i, k] = v
    return ids, matrix, np.asarray(labels)


def test_svmlight_matches_an_independent_parse(tmp_path: Path) -> None:
    sparse = {"input_format": "sparse"}
    guest, host, guest_model, _ = run_transform(
        tmp_path,
        (raw_from_file(DATA / "svmlight_guest.csv"), {**sparse, "with_label": True}),
        (raw_from_file(DATA / "svmlight_host.csv"), {**sparse, "with_label": False}),
    )
    ids, matrix, labels = _svmlight_reference(DATA / "svmlight_guest.csv", with_label=True)
    assert list(guest.ids()) == ids
    assert np.array_equal(guest.features(), matrix)
    assert np.array_equal(guest.labels(), labels)  # type: ignore[arg-type]
    assert list(guest.header) == [f"x{i}" for i in range(matrix.shape[1])] == guest_model["header"]
    assert guest.label_name == "label"

    _, host_matrix, _ = _svmlight_reference(DATA / "svmlight_host.csv", with_label=False)
    assert np.array_equal(host.features(), host_matrix)


def test_tag_value_matches_an_independent_parse(tmp_path: Path) -> None:
    path = DATA / "tag_value_1000_140.csv"
    guest, host, _, host_model = run_transform(
        tmp_path,
        (raw_from_file(DATA / "breast_hetero_guest.csv"), {"with_label": True, "label_name": "y"}),
        (raw_from_file(path), {"with_label": False, "input_format": "tag", "tag_with_value": True}),
    )
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    tags = sorted({field.split(":")[0] for row in rows for field in row[1:]})
    column = {tag: j for j, tag in enumerate(tags)}
    expected = np.zeros((len(rows), len(tags)))
    for i, row in enumerate(rows):
        for field in row[1:]:
            tag, value = field.split(":")
            expected[i, column[tag]] = float(value)
    assert list(host.header) == tags == host_model["header"]
    assert list(host.ids()) == [row[0] for row in rows]
    assert np.array_equal(host.features(), expected)
    assert guest.labels() is not None


def test_tag_value_file_with_semicolons_equals_the_dense_file(tmp_path: Path) -> None:
    # FATE's experiment template reads breast_hetero_host_tag_value.csv with delimitor ";": it is
    # breast_hetero_host.csv written as tag:value, so both must give the same numbers.
    tag_params = {"input_format": "tag", "delimitor": ";", "tag_with_value": True}
    dense, tagged, _, _ = run_transform(
        tmp_path,
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
        (raw_from_file(DATA / "breast_hetero_host_tag_value.csv"), tag_params),
    )
    assert list(tagged.header) == sorted(dense.header)
    by_id = {row_id: i for i, row_id in enumerate(dense.ids())}
    rows = [by_id[row_id] for row_id in tagged.ids()]
    columns = [list(dense.header).index(name) for name in tagged.header]
    assert np.array_equal(tagged.features(), dense.features()[np.ix_(rows, columns)])


def test_bare_tags_become_indicator_columns(tmp_path: Path) -> None:
    path = DATA / "mock_tag_hetero_host.csv"
    _, host, _, _ = run_transform(
        tmp_path,
        (raw_from_file(DATA / "breast_hetero_guest.csv"), {"with_label": True}),
        (raw_from_file(path), {"input_format": "tag", "delimitor": ";"}),
    )
    rows = [line.split(",", 1) for line in path.read_text().splitlines()[1:]]
    tags = sorted({tag for _, text in rows for tag in text.split(";")})
    expected = np.array([[1.0 if tag in text.split(";") else 0.0 for tag in tags] for _, text in rows])
    assert list(host.header) == tags
    assert np.array_equal(host.features(), expected)


def test_dense_rows_cut_by_another_delimiter(tmp_path: Path) -> None:
    lines = (DATA / "breast_hetero_guest.csv").read_text().splitlines()
    # Uploaded with "," but the values are ";"-separated: the store sees one value column.
    semicolons = [line.split(",", 1)[0] + "," + line.split(",", 1)[1].replace(",", ";") for line in lines]
    guest, _, _, _ = run_transform(
        tmp_path,
        (raw_from_lines(semicolons), {"with_label": True, "delimitor": ";"}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    reference = np.loadtxt(DATA / "breast_hetero_guest.csv", delimiter=",", skiprows=1)
    assert np.array_equal(guest.features(), reference[:, 2:])
    assert list(guest.header) == _header_of(DATA / "breast_hetero_guest.csv")[2:]


def test_match_id_column_is_kept_apart(tmp_path: Path) -> None:
    path = DATA / "breast_hetero_guest.csv"
    guest, _, model, _ = run_transform(
        tmp_path,
        (raw_from_file(path, extend_sid=True), {"with_label": True, "with_match_id": True}),
        (raw_from_file(DATA / "breast_hetero_host.csv", extend_sid=True), {"with_match_id": True}),
    )
    reference = np.loadtxt(path, delimiter=",", skiprows=1)
    assert np.array_equal(guest.features(), reference[:, 2:])
    assert guest.table.column("match_id").to_pylist() == [
        line.split(",")[0] for line in path.read_text().split()[1:]
    ]
    assert guest.extra["match_id_name"] == "id" == model["settings"]["match_id_name"]
    assert list(guest.ids()) == [str(i) for i in range(reference.shape[0])]


def test_need_run_false_passes_rows_through(tmp_path: Path) -> None:
    raw = raw_from_file(DATA / "breast_hetero_guest.csv")
    guest, _, model, _ = run_transform(
        tmp_path,
        (raw, {"need_run": False, "with_label": True}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    assert guest.kind == "raw" and guest.table.equals(raw.table) and guest.header == raw.header
    assert model["need_run"] is False


def test_text_labels_are_numbered_in_sorted_order_and_reused_in_predict(tmp_path: Path) -> None:
    names = np.array(["cat", "dog", "bird"])
    rng = np.random.default_rng(7)
    train_labels, predict_labels = names[rng.integers(0, 3, 40)], np.array(["eel", "cat", "bird", "dog"])

    def table(labels: np.ndarray) -> list[str]:
        return ["id,kind,x0"] + [f"r{i},{label},{i * 0.5}" for i, label in enumerate(labels)]

    dsl, conf = transform_job(
        {"with_label": True, "label_name": "kind", "label_type": "str"}, {}, with_predict=True
    )
    with harness(tmp_path, dsl, conf) as running:
        running.plant(*GUEST, "reader_0", raw_from_lines(table(train_labels)))
        running.plant(*GUEST, "reader_1", raw_from_lines(table(predict_labels)))
        for party, name in ((HOST, "reader_0"), (HOST, "reader_1")):
            running.plant(*party, name, raw_from_file(DATA / "breast_hetero_host.csv"))
        running.run_ok("data_transform_0")
        running.run_ok("data_transform_1")
        trained = running.output(*GUEST, "data_transform_0")
        predicted = running.output(*GUEST, "data_transform_1")
        # In a training job the transforming component outputs the model it applied.
        assert running.model(*GUEST, "data_transform_1") == running.model(*GUEST, "data_transform_0")

    classes, codes = np.unique(train_labels, return_inverse=True)
    assert np.array_equal(trained.labels(), codes)  # type: ignore[arg-type]
    assert trained.extra["label_mapping"] == {label: i for i, label in enumerate(classes)}
    known = dict(trained.extra["label_mapping"])
    # A label the training data did not have is numbered after the known ones.
    assert list(predicted.labels()) == [len(known), known["cat"], known["bird"], known["dog"]]  # type: ignore[arg-type]


def test_numeric_text_labels_stay_numbers(tmp_path: Path) -> None:
    path = DATA / "breast_hetero_guest.csv"
    guest, _, model, _ = run_transform(
        tmp_path,
        (raw_from_file(path), {"with_label": True, "label_type": "str"}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    assert np.array_equal(guest.labels(), np.loadtxt(path, delimiter=",", skiprows=1)[:, 1])  # type: ignore[arg-type]
    assert model["label_mapping"] is None


def test_a_value_that_is_not_a_number_names_row_column_and_fix(tmp_path: Path) -> None:
    lines = (DATA / "breast_hetero_guest.csv").read_text().splitlines()
    fields = lines[2].split(",")
    fields[5] = "abc"  # x3 of the row with id 273
    lines[2] = ",".join(fields)
    errors = run_failing(
        tmp_path,
        (raw_from_lines(lines), {"with_label": True}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    error = errors["guest"]
    assert isinstance(error, DataFormatError) and errors["host"] is None
    assert "'273'" in error.message and "'x3'" in error.message and "'abc'" in error.message
    assert error.hint is not None and "missing_impute" in error.hint and "outlier_impute" in error.hint


def test_missing_label_column_lists_the_columns(tmp_path: Path) -> None:
    errors = run_failing(
        tmp_path,
        (raw_from_file(DATA / "breast_hetero_guest.csv"), {"with_label": True, "label_name": "target"}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    error = errors["guest"]
    assert isinstance(error, DataFormatError)
    assert "'target'" in error.message and "y, x0, x1" in error.message


def test_text_features_are_refused_with_the_reason(tmp_path: Path) -> None:
    errors = run_failing(
        tmp_path / "float",
        (raw_from_file(DATA / "mocked_string_data.csv"), {"with_label": True}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    error = errors["guest"]
    assert isinstance(error, DataFormatError)
    assert "'x0'" in error.message and "'B'" in error.message
    assert "data_type 'str'" in str(error.hint)
    # data_type str keeps them as text (tests/components/feature/test_text_onehot.py); filling text
    # cells is not done, and is refused before anything runs (at submit on a site).
    errors = run_failing(
        tmp_path / "str",
        (
            raw_from_file(DATA / "mocked_string_data.csv"),
            {"with_label": True, "data_type": "str", "missing_fill": True},
        ),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    refused = errors["guest"]
    assert isinstance(refused, ComponentFeatureUnsupported) and "missing_fill" in refused.message


def test_reader_output_of_an_upload_feeds_data_transform(tmp_path: Path) -> None:
    dsl, conf = transform_job({"with_label": True}, {"with_label": False})
    with harness(tmp_path, dsl, conf) as running:
        for role, name in (("guest", "breast_hetero_guest.csv"), ("host", "breast_hetero_host.csv")):
            running.tables.upload(
                UploadConf(file=str(DATA / name), table_name=f"{role}_table", namespace="experiment", head=1)
            )
        running.run_ok("reader_0")
        running.run_ok("data_transform_0")
        guest = running.output(*GUEST, "data_transform_0")
        host = running.output(*HOST, "data_transform_0")
    guest_ref = np.loadtxt(DATA / "breast_hetero_guest.csv", delimiter=",", skiprows=1)
    host_ref = np.loadtxt(DATA / "breast_hetero_host.csv", delimiter=",", skiprows=1)
    assert np.array_equal(guest.features(), guest_ref[:, 2:])
    assert np.array_equal(guest.labels(), guest_ref[:, 1])  # type: ignore[arg-type]
    assert np.array_equal(host.features(), host_ref[:, 1:])


def test_defaults_are_fates() -> None:
    params = DataTransformParam()
    assert params.model_dump() == {
        "input_format": "dense",
        "delimitor": ",",
        "data_type": "float64",
        "exclusive_data_type": None,
        "tag_with_value": False,
        "tag_value_delimitor": ":",
        "missing_fill": False,
        "default_value": 0,
        "missing_fill_method": None,
        "missing_impute": None,
        "outlier_replace": False,
        "outlier_replace_method": None,
        "outlier_impute": None,
        "outlier_replace_value": 0,
        "with_label": False,
        "label_name": "y",
        "label_type": "int",
        "output_format": "dense",
        "need_run": True,
        "with_match_id": False,
        "match_id_name": "",
        "match_id_index": 0,
    }


def test_upload_meta_describes_the_table(tmp_path: Path) -> None:
    # FATE 1.9+: a table uploaded with meta is read by its meta, whatever the component's parameters.
    path = DATA / "breast_hetero_host_tag_value.csv"
    tagged = raw_from_file(path)
    tagged = tagged.with_extra(meta={"input_format": "tag", "delimiter": ";", "tag_with_value": True})
    _, host, _, model = run_transform(
        tmp_path, (raw_from_file(DATA / "breast_hetero_guest.csv"), {"with_label": True}), (tagged, {})
    )
    assert model["settings"]["input_format"] == "tag" and model["settings"]["delimitor"] == ";"
    dense = np.loadtxt(DATA / "breast_hetero_host.csv", delimiter=",", skiprows=1)
    by_id = {str(int(row_id)): i for i, row_id in enumerate(dense[:, 0])}
    names = _header_of(DATA / "breast_hetero_host.csv")[1:]
    columns = [1 + names.index(name) for name in host.header]
    assert np.array_equal(host.features(), dense[[by_id[i] for i in host.ids()]][:, columns])


def test_integer_data_type_and_exclusive_column_types(tmp_path: Path) -> None:
    lines = ["id,y,count,ratio"] + [f"r{i},{i % 2},{i * 3},{i / 7}" for i in range(30)]
    params = {"with_label": True, "data_type": "int", "exclusive_data_type": {"RATIO": "float64"}}
    guest, _, _, _ = run_transform(
        tmp_path / "ok", (raw_from_lines(lines), params), (raw_from_file(DATA / "breast_hetero_host.csv"), {})
    )
    assert np.array_equal(guest.features(), np.array([[i * 3, i / 7] for i in range(30)]))

    errors = run_failing(
        tmp_path / "refused",
        (raw_from_lines(lines), {"with_label": True, "data_type": "int"}),
        (raw_from_file(DATA / "breast_hetero_host.csv"), {}),
    )
    error = errors["guest"]
    assert isinstance(error, DataFormatError)
    assert "'r1'" in error.message and "'ratio'" in error.message and "not an integer" in error.message


def test_dense_rows_without_a_header_line_are_refused(tmp_path: Path) -> None:
    headless = raw_from_file(DATA / "breast_hetero_guest.csv", head=False)
    errors = run_failing(tmp_path, (headless, {}), (raw_from_file(DATA / "breast_hetero_host.csv"), {}))
    error = errors["guest"]
    assert isinstance(error, DataFormatError) and "header line" in error.message
    assert error.hint is not None and "head 1" in error.hint


def test_tag_rows_of_an_extend_sid_upload_keep_their_match_id(tmp_path: Path) -> None:
    # data_transform/test_data_transform_tag_value_match_id_conf.json on a table uploaded with extend_sid.
    path = DATA / "tag_value_1000_140.csv"
    params = {"input_format": "tag", "tag_with_value": True, "with_match_id": True}
    plain, matched, _, _ = run_transform(
        tmp_path,
        (raw_from_file(path), {"input_format": "tag", "tag_with_value": True}),
        (raw_from_file(path, extend_sid=True), params),
    )
    assert matched.table.column("match_id").to_pylist() == list(plain.ids())
    assert list(matched.header) == list(plain.header)
    assert np.array_equal(matched.features(), plain.features())
