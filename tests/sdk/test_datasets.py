"""Dataset loaders (what model files see) and validators (what the platform runs at upload)."""

from __future__ import annotations

import hashlib
import io
import tempfile
import wave
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from dataset_fixtures import examples_fixture, image_zip, load_example, png, write_zip  # noqa: F401
from PIL import Image

from rafiki.model.dataset import (
    CorpusDataset,
    DatasetUtils,
    ImageFilesDataset,
    InvalidDatasetError,
    TabularDataset,
    load_images,
    normalize_images,
    transform_images,
    validate_dataset,
    validate_dataset_pair,
)

Examples = dict[str, dict[str, str]]
utils_dataset = DatasetUtils()


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Route tempfile into a folder of our own, to see what loaders leave behind."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def tiny_images_zip(path: Path, classes: list[int], size: tuple[int, int] = (8, 8)) -> Path:
    rows = "".join(f"img/{i}.png,{c}\n" for i, c in enumerate(classes))
    return image_zip(
        path,
        "path,class\n" + rows,
        {f"img/{i}.png": png(size, (i * 40, 0, 0)) for i in range(len(classes))},
    )


# --- IMAGE_FILES loader -------------------------------------------------------------------


def test_image_loader_reads_digits_the_way_rafiki_model_files_do(
    examples: Examples, private_tempdir: Path
) -> None:
    dataset = utils_dataset.load_dataset_of_image_files(examples["digits"]["val"])
    (images, classes) = zip(*[(image, image_class) for (image, image_class) in dataset])

    assert dataset.classes == 10
    assert dataset.size == len(images) == len(dataset) == 359
    assert images[0].shape == (16, 16, 3) and images[0].dtype == np.uint8
    assert set(classes) == set(range(10))
    image, image_class = dataset[5]
    assert (image == images[5]).all() and image_class == classes[5]
    assert list(private_tempdir.iterdir()) == [], "the extracted archive must be removed"


def test_image_loader_resizes_and_converts_mode(tmp_path: Path) -> None:
    path = str(tiny_images_zip(tmp_path / "tiny.zip", [0, 1], size=(16, 16)))

    assert ImageFilesDataset(path, mode="L")[0][0].shape == (16, 16, 1)
    assert ImageFilesDataset(path, min_image_size=24)[0][0].shape == (24, 24, 3)
    assert ImageFilesDataset(path, max_image_size=8)[0][0].shape == (8, 8, 3)
    with pytest.raises(ValueError, match="min_image_size 32 is larger than max_image_size 8"):
        ImageFilesDataset(path, min_image_size=32, max_image_size=8)


def test_image_loader_keeps_non_square_images_in_pillow_layout(tmp_path: Path) -> None:
    path = tiny_images_zip(tmp_path / "wide.zip", [0, 1], size=(12, 5))  # width 12, height 5

    image, _ = ImageFilesDataset(str(path))[0]

    # Same layout as np.asarray(Image.open(f)): rows (height) first, as queries arrive.
    assert image.shape == (5, 12, 3)


def test_image_loader_shuffles_but_keeps_each_image_with_its_class(tmp_path: Path) -> None:
    path = tiny_images_zip(tmp_path / "s.zip", [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    plain = ImageFilesDataset(str(path))
    pairs = {(int(image[0, 0, 0]), c) for image, c in plain}

    orders = [
        [int(image[0, 0, 0]) for image, _ in ImageFilesDataset(str(path), if_shuffle=True)]
        for _ in range(5)
    ]

    assert any(order != [int(image[0, 0, 0]) for image, _ in plain] for order in orders)
    assert {
        (int(image[0, 0, 0]), c) for image, c in ImageFilesDataset(str(path), if_shuffle=True)
    } == pairs


def test_image_dataset_to_arrays(examples: Examples, tmp_path: Path) -> None:
    images, classes = ImageFilesDataset(examples["digits"]["test"]).to_arrays()
    assert images.shape == (360, 16, 16, 3) and classes.shape == (360,) and classes.max() == 9

    mixed = image_zip(
        tmp_path / "mixed.zip",
        "path,class\na.png,0\nb.png,1\n",
        {"a.png": png((8, 8)), "b.png": png((9, 9))},
    )
    with pytest.raises(ValueError, match="min_image_size and max_image_size"):
        ImageFilesDataset(str(mixed)).to_arrays()
    assert ImageFilesDataset(str(mixed), min_image_size=10, max_image_size=10).to_arrays()[
        0
    ].shape == (2, 10, 10, 3)


def test_image_loader_rejects_what_the_validator_rejects(
    tmp_path: Path, private_tempdir: Path
) -> None:
    path = tiny_images_zip(tmp_path / "bad.zip", [0, -1])

    with pytest.raises(
        InvalidDatasetError,
        match=r"bad\.zip: images\.csv: line 3, column 'class': class -1 is negative",
    ):
        ImageFilesDataset(str(path))
    assert list(private_tempdir.iterdir()) == []


def test_image_helpers_load_transform_normalize(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png((4, 4), 10, "L"))
    (tmp_path / "b.png").write_bytes(png((4, 4), 30, "L"))

    images = load_images([str(tmp_path / "a.png"), str(tmp_path / "b.png")])
    assert images.shape == (2, 4, 4, 3) and images[1, 0, 0].tolist() == [30, 30, 30]
    assert load_images([str(tmp_path / "a.png")], mode="L").shape == (1, 4, 4, 1)

    resized = transform_images(images, image_size=8, mode="L")
    assert resized.shape == (2, 8, 8, 1) and resized[0, 3, 3, 0] == 10

    normalized, mean, std = normalize_images(images)
    assert mean == [20.0, 20.0, 20.0] and std == [10.0, 10.0, 10.0]
    assert np.allclose(normalized[0], -1.0) and np.allclose(normalized[1], 1.0)
    # Validation data is normalised with the training statistics, not its own.
    again, _, _ = normalize_images(images[:1], mean, std)
    assert np.allclose(again, -1.0)
    flat, _, flat_std = normalize_images(np.full((2, 2, 2, 1), 7))
    assert flat_std == [0.0] and np.isfinite(flat).all()


def test_model_file_style_access_through_rafiki_model() -> None:
    from rafiki.model import dataset, utils

    for helpers in (utils.dataset, dataset):
        assert callable(helpers.load_dataset_of_image_files) and callable(
            helpers.load_dataset_of_corpus
        )


# --- CORPUS loader ------------------------------------------------------------------------


def test_corpus_loader_reads_sentences_with_int_tags(examples: Examples) -> None:
    pos = load_example("pos_corpus")
    dataset = utils_dataset.load_dataset_of_corpus(examples["pos"]["train"])

    assert dataset.tags == ["tag"]
    assert dataset.tag_num_classes[0] == len(pos.TAGS)
    assert dataset.size == len(dataset) == 300
    sentences = list(dataset)
    assert sentences[0] == dataset[0]
    for sentence in sentences:
        assert all(isinstance(token, str) and isinstance(tag, int) for token, tag in sentence)
        assert sentence[-1][1] == pos.T["PUNCT"]
        assert all(token != "\\n" for token, _ in sentence)
    assert dataset.max_sent_len == max(len(s) for s in sentences)


def test_corpus_loader_tags_split_by_and_a_missing_final_delimiter(tmp_path: Path) -> None:
    tsv = "token\ttag\tchunk\nThe\t0\t1\ndog\t1\t2\n|\t0\t0\nRuns\t2\t3\n"
    path = write_zip(tmp_path / "c.zip", {"corpus.tsv": tsv})

    dataset = CorpusDataset(str(path), tags=["chunk"], split_by="|")

    assert dataset.tags == ["chunk"] and dataset.tag_num_classes == [4]
    assert list(dataset) == [[["The", 1], ["dog", 2]], [["Runs", 3]]]
    assert utils_dataset.load_dataset_of_corpus(str(path), split_by="|").tags == ["tag", "chunk"]


def test_corpus_tokens_may_contain_quotes(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "q.zip", {"corpus.tsv": "token\ttag\n\"\t1\nhi\t0\n''\t1\n\\n\t0\n"}
    )

    assert CorpusDataset(str(path))[0] == [['"', 1], ["hi", 0], ["''", 1]]


# --- TABULAR and AUDIO_FILES loaders ------------------------------------------------------


def test_tabular_loader_defaults_to_last_column_as_target(examples: Examples) -> None:
    iris = utils_dataset.load_dataset_of_tabular(examples["iris"]["train"])

    assert iris.target == "species" and iris.features == iris.columns[:-1]
    assert iris.X.shape == (90, 4) and iris.X.dtype == np.float64
    assert iris.y.dtype == np.int64 and sorted(Counter(iris.y.tolist())) == [0, 1, 2]
    assert set(iris.feature_dicts()[0]) == set(iris.features)

    diabetes = TabularDataset(examples["diabetes"]["val"], features=["age", "bmi"], target="bp")
    assert diabetes.X.shape == (diabetes.size, 2) and diabetes.y.dtype == np.float64


def test_tabular_loader_mixed_columns_and_missing_values(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("city,size,price\nParis,3,1.5\nRome,,2\n")

    table = TabularDataset(str(tmp_path / "t.csv"))

    assert table.X.dtype == object and table.X[0].tolist() == ["Paris", 3.0]
    assert np.isnan(table.X[1, 1]) and table.y.tolist() == [1.5, 2.0]
    assert TabularDataset(str(tmp_path / "t.csv"), features=["size"]).X.dtype == np.float64
    with pytest.raises(InvalidDatasetError, match=r"t\.csv: missing column 'weight'"):
        TabularDataset(str(tmp_path / "t.csv"), target="weight")


def test_audio_loader_extracts_into_the_given_folder(examples: Examples, tmp_path: Path) -> None:
    dataset = utils_dataset.load_dataset_of_audio_files(
        examples["audio"]["val"], str(tmp_path / "audio")
    )

    assert dataset.size == 4 and dataset.transcripts == load_example("audio").TRANSCRIPTS["val"]
    for row in dataset:
        assert Path(row["wav_filename"]).is_file()
        assert Path(row["wav_filename"]).resolve().is_relative_to((tmp_path / "audio").resolve())
        assert Path(row["wav_filename"]).stat().st_size == row["wav_filesize"]


# --- validators: good files ---------------------------------------------------------------


def test_validates_every_example_dataset(examples: Examples) -> None:
    digits = validate_dataset("IMAGE_CLASSIFICATION", examples["digits"]["val"])
    assert (
        digits["dataset_type"] == "IMAGE_FILES"
        and digits["images"] == 359
        and digits["classes"] == 10
    )
    assert (
        digits["image_size"] == [16, 16]
        and digits["same_size"]
        and sum(digits["class_counts"]) == 359
    )
    assert digits["modes"] == {"L": 359} and digits["missing_classes"] == []

    pos = validate_dataset("POS_TAGGING", examples["pos"]["val"])
    assert pos["sentences"] == 100 and pos["tags"]["tag"]["classes"] == 12
    assert sum(pos["tags"]["tag"]["class_counts"]) == pos["tokens"]

    iris = validate_dataset("TABULAR_CLASSIFICATION", examples["iris"]["test"])
    assert (
        iris["rows"] == 30
        and iris["columns"][-1] == "species"
        and len(iris["numeric_columns"]) == 5
    )

    audio = validate_dataset("SPEECH_RECOGNITION", examples["audio"]["train"])
    assert audio["audios"] == 12 and audio["sample_rate"] == 16000 and audio["total_seconds"] > 0

    for summary in (digits, pos, iris, audio):
        assert summary["size_bytes"] > 0 and len(summary["sha256"]) == 64


def test_custom_task_is_summarised_without_inspection(tmp_path: Path) -> None:
    (tmp_path / "anything.bin").write_bytes(b"\x00opaque\xff")

    summary = validate_dataset("MY_CUSTOM_TASK", str(tmp_path / "anything.bin"))

    assert summary == {
        "task": "MY_CUSTOM_TASK",
        "dataset_type": None,
        "file": "anything.bin",
        "size_bytes": 8,
        "sha256": hashlib.sha256(b"\x00opaque\xff").hexdigest(),
    }


def test_validator_reports_mixed_image_sizes_and_missing_classes(tmp_path: Path) -> None:
    path = image_zip(
        tmp_path / "m.zip",
        "path,class\na.png,0\nb.png,2\nc.jpg,2\n",
        {"a.png": png((8, 8)), "b.png": png((8, 8)), "c.jpg": _jpeg((10, 6))},
    )

    summary = validate_dataset("IMAGE_CLASSIFICATION", str(path))

    assert summary["same_size"] is False and summary["image_sizes"] == {"8x8": 2, "10x6": 1}
    assert summary["classes"] == 3 and summary["missing_classes"] == [1]


def _jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


# --- validators: malformed IMAGE_FILES ----------------------------------------------------

GOOD_IMAGES = {"a.png": png(), "b.png": png()}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.png": png()}, r"bad\.zip: no images\.csv at the root of the archive"),
        (
            {"data/images.csv": "path,class\na.png,0\n", "a.png": png()},
            r"no images\.csv at the root",
        ),
        (
            {"images.csv": "path,label\na.png,0\n", **GOOD_IMAGES},
            r"images\.csv: missing column 'class' \(the header has: path, label\)",
        ),
        ({"images.csv": "file,class\na.png,0\n", **GOOD_IMAGES}, r"missing column 'path'"),
        (
            {"images.csv": "path,class\na.png,0\nb.png,-1\n", **GOOD_IMAGES},
            r"line 3, column 'class': class -1 is negative",
        ),
        (
            {"images.csv": "path,class\na.png,cat\n", **GOOD_IMAGES},
            r"line 2, column 'class': 'cat' is not an integer class",
        ),
        (
            {"images.csv": "path,class\na.png,1.5\n", **GOOD_IMAGES},
            r"line 2, column 'class': '1\.5' is not an integer",
        ),
        (
            {"images.csv": "path,class\na.png,0\nmissing.png,1\n", **GOOD_IMAGES},
            r"line 3, column 'path': 'missing\.png' is not a file in the archive",
        ),
        (
            {"images.csv": "path,class\n../b.png,0\n", **GOOD_IMAGES},
            r"line 2, column 'path': the path '\.\./b\.png' contains '\.\.'",
        ),
        (
            {"images.csv": "path,class\n/etc/passwd,0\n", **GOOD_IMAGES},
            r"line 2, column 'path': .* is an absolute path",
        ),
        (
            {"images.csv": "path,class\na.png,0\nb.png\n", **GOOD_IMAGES},
            r"line 3: has 1 fields but the header has 2 columns",
        ),
        ({"images.csv": "path,class\n", **GOOD_IMAGES}, r"images\.csv: has a header but no images"),
        ({"images.csv": "", **GOOD_IMAGES}, r"images\.csv: the file is empty"),
        (
            {"images.csv": b"path,class\n\xff\xfe.png,0\n", **GOOD_IMAGES},
            r"line 2: the file is not UTF-8",
        ),
        (
            {
                "images.csv": "path,class\na.png,0\nnotes.png,1\n",
                "a.png": png(),
                "notes.png": b"just some text",
            },
            r"line 3, column 'path': 'notes\.png' is not a readable image",
        ),
        (
            {"images.csv": "path,class\na.png,0\n", "a.png": png()[:40]},
            r"line 2, column 'path': 'a\.png' is not a readable image",
        ),
    ],
    ids=[
        "no-csv",
        "csv-not-at-root",
        "no-class-column",
        "no-path-column",
        "negative-class",
        "class-not-int",
        "class-float",
        "image-missing",
        "path-escapes",
        "path-absolute",
        "short-row",
        "no-rows",
        "empty-csv",
        "not-utf8",
        "not-an-image",
        "truncated-image",
    ],
)
def test_image_validator_rejects(tmp_path: Path, files: dict, message: str) -> None:
    path = write_zip(tmp_path / "bad.zip", files)

    with pytest.raises(InvalidDatasetError, match=message):
        validate_dataset("IMAGE_CLASSIFICATION", str(path))


def test_image_validator_rejects_a_non_zip_upload(examples: Examples) -> None:
    with pytest.raises(InvalidDatasetError, match=r"iris_train\.csv: not a valid zip archive"):
        validate_dataset("IMAGE_CLASSIFICATION", examples["iris"]["train"])


def test_image_validator_refuses_formats_outside_the_allowed_list(tmp_path: Path) -> None:
    # Pillow can decode PostScript through Ghostscript; a dataset must never make us run it.
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n"
    path = image_zip(tmp_path / "eps.zip", "path,class\nx.png,0\n", {"x.png": eps})

    with pytest.raises(
        InvalidDatasetError, match=r"line 2, column 'path': 'x\.png' is not a readable image"
    ):
        validate_dataset("IMAGE_CLASSIFICATION", str(path))


# --- validators: malformed CORPUS, TABULAR, AUDIO_FILES -----------------------------------


@pytest.mark.parametrize(
    ("tsv", "message"),
    [
        ("word\ttag\nhi\t0\n", r"corpus\.tsv: missing column 'token'"),
        ("token\tpos\nhi\t0\n", r"corpus\.tsv: missing column 'tag' \(POS_TAGGING needs"),
        (
            "token\ttag\nhi\t0\nthere\tNOUN\n",
            r"corpus\.tsv: line 3, column 'tag': 'NOUN' is not an integer",
        ),
        ("token\ttag\nhi\t0\n\t1\n", r"line 3, column 'token': the token is empty"),
        ("token\ttag\nhi\t0\t7\n", r"line 2: has 3 fields but the header has 2 columns"),
        ("token\ttag\n\\n\t0\n", r"corpus\.tsv: has no tokens"),
    ],
    ids=[
        "no-token-column",
        "no-tag-column",
        "tag-not-int",
        "empty-token",
        "extra-field",
        "no-tokens",
    ],
)
def test_corpus_validator_rejects(tmp_path: Path, tsv: str, message: str) -> None:
    path = write_zip(tmp_path / "c.zip", {"corpus.tsv": tsv})

    with pytest.raises(InvalidDatasetError, match=message):
        validate_dataset("POS_TAGGING", str(path))


def test_corpus_validator_needs_corpus_tsv(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "c.zip", {"corpus.csv": "token,tag\n"})

    with pytest.raises(InvalidDatasetError, match=r"c\.zip: no corpus\.tsv at the root"):
        validate_dataset("POS_TAGGING", str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b,y\n1,2,3\n4,5\n", r"t\.csv: line 3: has 2 fields but the header has 3 columns"),
        (b"only\n1\n2\n", r"t\.csv: line 1: needs at least two columns"),
        (b"", r"t\.csv: the file is empty"),
        (b"a,b\n", r"t\.csv: has a header but no rows"),
        (b"a,a\n1,2\n", r"t\.csv: line 1: column 'a' appears twice"),
        (b"a,b\n1,2\n\x89PNG\xff,3\n", r"t\.csv: line 3: the file is not UTF-8"),
    ],
    ids=["ragged-row", "one-column", "empty", "no-rows", "duplicate-column", "binary"],
)
def test_tabular_validator_rejects(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "t.csv").write_bytes(content)

    with pytest.raises(InvalidDatasetError, match=message):
        validate_dataset("TABULAR_REGRESSION", str(tmp_path / "t.csv"))


def test_tabular_validator_summarises_types_and_missing_values(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text('city,size,"price, eur"\nParis,3,1.5\n"Rome, IT",,2\n')

    summary = validate_dataset("TABULAR_REGRESSION", str(tmp_path / "t.csv"))

    assert summary["rows"] == 2 and summary["columns"] == ["city", "size", "price, eur"]
    assert summary["numeric_columns"] == ["size", "price, eur"] and summary["missing_values"] == {
        "size": 1
    }


def wav(sample_rate: int = 16000, frames: int = 1600) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(bytes(2 * frames))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("csv_text", "files", "message"),
    [
        (
            "wav_filename,wav_filesize,transcript\na.wav,{a},Hello\n",
            {"a.wav": wav()},
            r"audios\.csv: line 2, column 'transcript': the transcript 'Hello' has characters other than .* 'H'",
        ),
        (
            "wav_filename,wav_filesize,transcript\na.wav,{a},yes\nb.wav,{b},no!\n",
            {"a.wav": wav(), "b.wav": wav()},
            r"line 3, column 'transcript': .* '!'",
        ),
        (
            "wav_filename,wav_filesize,transcript\na.wav,{a},\n",
            {"a.wav": wav()},
            r"line 2, column 'transcript': the transcript is empty",
        ),
        (
            "wav_filename,wav_filesize,transcript\na.wav,{a},yes\nb.wav,{b},no\n",
            {"a.wav": wav(), "b.wav": wav(8000)},
            r"line 3, column 'wav_filename': 'b\.wav' is sampled at 8000 Hz, not 16000 Hz",
        ),
        (
            "wav_filename,wav_filesize,transcript\na.wav,123,yes\n",
            {"a.wav": wav()},
            r"line 2, column 'wav_filesize': 'a\.wav' is 3244 bytes, not 123",
        ),
        (
            "wav_filename,wav_filesize,transcript\na.wav,big,yes\n",
            {"a.wav": wav()},
            r"line 2, column 'wav_filesize': 'big' is not a size",
        ),
        (
            "wav_filename,wav_filesize,transcript\na.wav,{a},yes\n",
            {"a.wav": b"RIFF....not really"},
            r"line 2, column 'wav_filename': 'a\.wav' is not a readable wav",
        ),
        (
            "wav_filename,transcript\na.wav,yes\n",
            {"a.wav": wav()},
            r"audios\.csv: missing column 'wav_filesize'",
        ),
    ],
    ids=[
        "uppercase",
        "punctuation",
        "empty",
        "8khz",
        "wrong-filesize",
        "filesize-not-int",
        "not-wav",
        "no-filesize-column",
    ],
)
def test_audio_validator_rejects(
    tmp_path: Path, csv_text: str, files: dict[str, bytes], message: str
) -> None:
    sizes = {name.split(".")[0]: len(data) for name, data in files.items()}
    path = write_zip(tmp_path / "a.zip", {"audios.csv": csv_text.format(**sizes), **files})

    with pytest.raises(InvalidDatasetError, match=message):
        validate_dataset("SPEECH_RECOGNITION", str(path))


def test_audio_validator_accepts_apostrophes_and_spaces(tmp_path: Path) -> None:
    data = wav()
    path = write_zip(
        tmp_path / "a.zip",
        {
            "audios.csv": f"wav_filename,wav_filesize,transcript\na.wav,{len(data)},it's fine\n",
            "a.wav": data,
        },
    )

    assert validate_dataset("SPEECH_RECOGNITION", str(path))["total_seconds"] == 0.1


def test_validator_applies_archive_safety(tmp_path: Path, private_tempdir: Path) -> None:
    path = write_zip(tmp_path / "evil.zip", {"images.csv": "path,class\n", "../../x.png": png()})

    with pytest.raises(
        InvalidDatasetError, match=r"evil\.zip: member '\.\./\.\./x\.png' contains '\.\.'"
    ):
        validate_dataset("IMAGE_CLASSIFICATION", str(path))
    assert list(private_tempdir.iterdir()) == []


# --- train/validation compatibility -------------------------------------------------------


def test_pair_check_accepts_matching_image_datasets(examples: Examples) -> None:
    val = validate_dataset("IMAGE_CLASSIFICATION", examples["digits"]["val"])
    test = validate_dataset("IMAGE_CLASSIFICATION", examples["digits"]["test"])

    validate_dataset_pair("IMAGE_CLASSIFICATION", val, test)


def test_pair_check_rejects_different_image_size(tmp_path: Path) -> None:
    train = validate_dataset(
        "IMAGE_CLASSIFICATION", str(tiny_images_zip(tmp_path / "train.zip", [0, 1], (16, 16)))
    )
    val = validate_dataset(
        "IMAGE_CLASSIFICATION", str(tiny_images_zip(tmp_path / "val.zip", [0, 1], (8, 8)))
    )
    mixed = image_zip(
        tmp_path / "mixed.zip",
        "path,class\na.png,0\nb.png,1\n",
        {"a.png": png((16, 16)), "b.png": png((8, 8))},
    )

    with pytest.raises(
        InvalidDatasetError,
        match=r"training images \(train\.zip\) are 16x16 .* validation images \(val\.zip\) are 8x8",
    ):
        validate_dataset_pair("IMAGE_CLASSIFICATION", train, val)
    with pytest.raises(InvalidDatasetError, match=r"\(mixed\.zip\) have several sizes: 16x16, 8x8"):
        validate_dataset_pair(
            "IMAGE_CLASSIFICATION", train, validate_dataset("IMAGE_CLASSIFICATION", str(mixed))
        )


def test_pair_check_rejects_different_number_of_classes(tmp_path: Path) -> None:
    train = validate_dataset(
        "IMAGE_CLASSIFICATION", str(tiny_images_zip(tmp_path / "train.zip", [0, 1, 2]))
    )
    val = validate_dataset(
        "IMAGE_CLASSIFICATION", str(tiny_images_zip(tmp_path / "val.zip", [0, 1]))
    )

    with pytest.raises(
        InvalidDatasetError,
        match=r"\(train\.zip\) has 3 classes but the validation dataset \(val\.zip\) has 2",
    ):
        validate_dataset_pair("IMAGE_CLASSIFICATION", train, val)


def test_pair_check_for_corpus_and_tabular(examples: Examples, tmp_path: Path) -> None:
    validate_dataset_pair(
        "POS_TAGGING",
        validate_dataset("POS_TAGGING", examples["pos"]["train"]),
        validate_dataset("POS_TAGGING", examples["pos"]["val"]),
    )
    few_tags = write_zip(tmp_path / "few.zip", {"corpus.tsv": "token\ttag\nhi\t0\nyou\t1\n"})
    with pytest.raises(
        InvalidDatasetError,
        match=r"column 'tag': the validation corpus \(pos_val\.zip\) uses class 11 .* only has classes 0\.\.1",
    ):
        validate_dataset_pair(
            "POS_TAGGING",
            validate_dataset("POS_TAGGING", str(few_tags)),
            validate_dataset("POS_TAGGING", examples["pos"]["val"]),
        )

    with pytest.raises(
        InvalidDatasetError, match=r"iris_train\.csv\) has columns .* \(diabetes_val\.csv\) has"
    ):
        validate_dataset_pair(
            "TABULAR_CLASSIFICATION",
            validate_dataset("TABULAR_CLASSIFICATION", examples["iris"]["train"]),
            validate_dataset("TABULAR_CLASSIFICATION", examples["diabetes"]["val"]),
        )


# --- example builders ---------------------------------------------------------------------


def test_example_builders_are_deterministic(examples: Examples, tmp_path: Path) -> None:
    again = {
        "digits": load_example("image_digits").build_digits(str(tmp_path)),
        "pos": load_example("pos_corpus").build_pos_corpus(str(tmp_path)),
        "iris": load_example("tabular").build_iris(str(tmp_path)),
        "audio": load_example("audio").build_audio(str(tmp_path)),
    }
    for name, paths in again.items():
        for split, path in paths.items():
            assert Path(path).read_bytes() == Path(examples[name][split]).read_bytes(), (
                f"{name} {split}"
            )


def test_example_splits_do_not_overlap(examples: Examples) -> None:
    paths = {}
    for split, path in examples["digits"].items():
        with zipfile.ZipFile(path) as zf:
            paths[split] = {
                line.split(",")[0] for line in zf.read("images.csv").decode().split()[1:]
            }
    assert not paths["train"] & paths["val"] and not paths["train"] & paths["test"]
    assert not paths["val"] & paths["test"]
    assert sum(len(p) for p in paths.values()) == 1797
