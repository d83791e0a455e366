"""Synthesise a tiny AUDIO_FILES dataset (task SPEECH_RECOGNITION) for loader and validator
tests. The "speech" is sine tones, one short tone per letter: useless for training a real
recogniser, but the files have the exact format (16 kHz, 16-bit mono wav).

    python examples/datasets/audio.py --out data/

writes ``audio_train.zip``, ``audio_val.zip`` and ``audio_test.zip``. Each zip holds wav
files under ``wavs/`` and ``audios.csv`` with columns ``wav_filename``, ``wav_filesize``
(bytes) and ``transcript`` (lowercase a-z, space, apostrophe). Same output on every run.
"""

from __future__ import annotations

import argparse
import io
import os
import wave
import zipfile

import numpy as np

SAMPLE_RATE = 16_000
TRANSCRIPTS = {
    "train": [
        "yes",
        "no",
        "up",
        "down",
        "left",
        "right",
        "on",
        "off",
        "stop",
        "go",
        "it's fine",
        "hello world",
    ],
    "val": ["yes", "no", "go", "stop"],
    "test": ["up", "down", "don't"],
}
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
_LETTER_SECONDS = 0.06


def synthesize_wav(transcript: str, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A 16-bit mono wav with one tone per character (silence for spaces)."""
    samples_per_letter = int(_LETTER_SECONDS * sample_rate)
    t = np.arange(samples_per_letter) / sample_rate
    pieces = []
    for char in transcript:
        if char == " ":
            pieces.append(np.zeros(samples_per_letter))
        else:
            frequency = 220.0 + 15.0 * (ord(char) - ord("a"))
            pieces.append(0.3 * np.sin(2 * np.pi * frequency * t))
    pcm = (np.concatenate(pieces) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_audio_zip(path: str, transcripts: list[str], sample_rate: int = SAMPLE_RATE) -> str:
    """Write one AUDIO_FILES zip with a wav per transcript; return ``path``."""
    rows = ["wav_filename,wav_filesize,transcript"]
    files: dict[str, bytes] = {}
    for i, transcript in enumerate(transcripts):
        name = f"wavs/{i:03d}.wav"
        files[name] = synthesize_wav(transcript, sample_rate)
        rows.append(f"{name},{len(files[name])},{transcript}")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in {"audios.csv": ("\n".join(rows) + "\n").encode(), **files}.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return path


def build_audio(out_dir: str) -> dict[str, str]:
    """Write the train/val/test zips into ``out_dir``; return split name -> path."""
    os.makedirs(out_dir, exist_ok=True)
    return {
        split: write_audio_zip(os.path.join(out_dir, f"audio_{split}.zip"), transcripts)
        for split, transcripts in TRANSCRIPTS.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the zips into")
    args = parser.parse_args()
    for split, path in build_audio(args.out).items():
        print(f"{split}: {path}")


if __name__ == "__main__":
    main()
