"""Recipe of the "spoken_digits" dataset (notebook 10): digit strings spoken by eSpeak NG.

    python -I -S recipes_speech.py SEED OUT.zip ESPEAKNG_LOADER_DIR

rnnkit.data.build("spoken_digits") runs this in a clean interpreter (no site-packages, no PYTHON*
variables) with the pinned espeakng-loader wheel unpacked in ESPEAKNG_LOADER_DIR: it carries
libespeak-ng and its voice data, called here through ctypes. The standard library does the rest,
so the file is byte-identical wherever it is built (`make data` checks its sha256).

1. Voices: English ("en") with each of eSpeak NG's voice variants (espeak-ng-data/voices/!v, in
   sorted order: "en+Alex", "en+Andrea", ...) but those that breathe (breathes(): their noise is
   not the same from one process to the next). TEST_VOICES of them, drawn with the seed, are the
   test voices; the others speak the training utterances. No voice speaks in both.
2. Each voice says PER_VOICE digit strings, each of MIN_DIGITS..MAX_DIGITS digits drawn uniformly
   ("3 1 4" is said "three one four"), at a rate of RATE words per minute and a pitch of PITCH
   (eSpeak's 0-100 scale), both drawn per utterance. Everything is drawn from one
   random.Random(seed) through random() alone, whose sequence Python guarantees across versions,
   in a fixed order: the test voices first, then voice by voice, utterance by utterance. The
   synthesiser is called in the same order every time: a call's samples depend on the calls
   before it in the process.
3. eSpeak NG speaks at 22,050 Hz. The audio is filtered with a 5-tap triangle [1, 2, 3, 2, 1] / 9
   and every third sample kept: 7,350 Hz, in exact integer arithmetic. Then the silence before
   and after the words is trimmed to MARGIN seconds (samples under SILENCE in magnitude count as
   silence): after the filter, which takes away the hiss of an "s" above 3.7 kHz.
4. OUT.zip holds, uncompressed and with fixed timestamps: audio.npy (int16, every utterance one
   after another), offsets.npy (int64, N + 1: utterance k is audio[offsets[k]:offsets[k + 1]]) and
   utterances.tsv (id, split, voice, rate, pitch, digits). The .npy files are written here in
   NumPy's format, version 1.0.
"""
import array
import ctypes
import io
import os
import random
import sys
import zipfile

SOURCE_RATE = 22_050
DECIMATE = 3
SAMPLE_RATE = SOURCE_RATE // DECIMATE            # 7,350 Hz
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEST_VOICES = 24
PER_VOICE = 8
MIN_DIGITS, MAX_DIGITS = 2, 5
RATE = (130, 210)           # words per minute
PITCH = (25, 75)
SILENCE = 300               # of 32,767
MARGIN = 0.05               # seconds of silence kept at each end
FIELDS = ("id", "split", "voice", "rate", "pitch", "digits")
ZIP_TIME = (2020, 1, 1, 0, 0, 0)

# espeak_AUDIO_OUTPUT, espeak_PARAMETER and espeak_POSITION_TYPE values of speak_lib.h
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_RATE, ESPEAK_PITCH = 1, 3
POS_CHARACTER = 1


def draw(rng, low, high):
    """An integer in [low, high] from rng.random() alone (randint's algorithm may change)."""
    return low + min(int(rng.random() * (high - low + 1)), high - low)


def choose(rng, items, k):
    """k distinct items, in the order drawn, from rng.random() alone."""
    pool, chosen = list(items), []
    for _ in range(k):
        chosen.append(pool.pop(draw(rng, 0, len(pool) - 1)))
    return chosen


def breathes(voice_file):
    """True for a variant that mixes breath noise into its voice: eSpeak NG draws that noise from
    a generator that is not seeded the same way in every process, so its audio differs per build."""
    with open(voice_file, encoding="latin1") as f:
        for line in f:
            words = line.split("//")[0].split()
            if words and words[0] == "breath" and any(w != "0" for w in words[1:]):
                return True
    return False


def plan(seed, variants):
    """[(split, voice, rate, pitch, digits)] in synthesis order, and the test voices."""
    rng = random.Random(seed)
    test = set(choose(rng, variants, TEST_VOICES))
    rows = []
    for variant in variants:
        split = "test" if variant in test else "train"
        for _ in range(PER_VOICE):
            n = draw(rng, MIN_DIGITS, MAX_DIGITS)
            digits = "".join(str(draw(rng, 0, 9)) for _ in range(n))
            rows.append((split, f"en+{variant}", draw(rng, *RATE), draw(rng, *PITCH), digits))
    return rows


class Speaker:
    """libespeak-ng through ctypes, synchronous: say() returns the samples of one utterance."""

    def __init__(self, package_dir):
        self.lib = ctypes.CDLL(os.path.join(package_dir, "libespeak-ng.so"))
        data = os.path.join(package_dir, "espeak-ng-data").encode()
        rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if rate != SOURCE_RATE:
            raise RuntimeError(f"eSpeak NG speaks at {rate} Hz, expected {SOURCE_RATE}")
        self.chunks = []
        callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def collect(wav, n, events):
            if wav and n > 0:
                self.chunks.append(ctypes.string_at(wav, 2 * n))
            return 0
        self.callback = callback(collect)       # kept alive as long as the library may call it
        self.lib.espeak_SetSynthCallback(self.callback)

    def say(self, text, voice, rate, pitch):
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"eSpeak NG has no voice {voice!r}")
        self.lib.espeak_SetParameter(ESPEAK_RATE, rate, 0)
        self.lib.espeak_SetParameter(ESPEAK_PITCH, pitch, 0)
        self.chunks = []
        encoded = text.encode()
        self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, POS_CHARACTER, 0, 0, None, None)
        self.lib.espeak_Synchronize()
        samples = array.array("h")
        samples.frombytes(b"".join(self.chunks))
        if sys.byteorder != "little":
            samples.byteswap()
        return samples


def trimmed(samples):
    """The samples with the silence before and after the words cut to MARGIN seconds."""
    loud = [i for i, s in enumerate(samples) if abs(s) >= SILENCE]
    if not loud:
        raise RuntimeError("an utterance is silent")
    margin = int(MARGIN * SAMPLE_RATE)
    return samples[max(loud[0] - margin, 0):loud[-1] + 1 + margin]


def decimated(samples):
    """Every third sample of the signal filtered by [1, 2, 3, 2, 1] / 9 (two 3-sample sums),
    rounded to the nearest integer; int16."""
    x = list(samples)
    x = [0, 0] + x + [0, 0]
    threes = [a + b + c for a, b, c in zip(x, x[1:], x[2:])]          # threes[i] = x[i] + x[i+1] + x[i+2]
    out = [(threes[k] + threes[k + 1] + threes[k + 2] + 4) // 9 for k in range(0, len(threes) - 2, DECIMATE)]
    return array.array("h", (max(-32768, min(32767, v)) for v in out))


def npy(values, descr, shape):
    """The bytes of a .npy file (format 1.0) holding `values` (an array.array) of `descr`."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    total = 10 + len(header) + 1
    header += " " * (-total % 64) + "\n"
    data = array.array(values.typecode, values)
    if sys.byteorder != "little":
        data.byteswap()
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1") + data.tobytes()


def main(seed, out, package_root):
    package_dir = os.path.join(package_root, "espeakng_loader")
    folder = os.path.join(package_dir, "espeak-ng-data", "voices", "!v")
    variants = sorted(v for v in os.listdir(folder) if not breathes(os.path.join(folder, v)))
    speaker = Speaker(package_dir)
    audio, offsets, lines = array.array("h"), array.array("q", [0]), ["\t".join(FIELDS)]
    for k, (split, voice, rate, pitch, digits) in enumerate(plan(seed, variants)):
        text = " ".join(WORDS[int(d)] for d in digits)
        audio.extend(trimmed(decimated(speaker.say(text, voice, rate, pitch))))
        offsets.append(len(audio))
        lines.append("\t".join(str(v) for v in (k, split, voice, rate, pitch, digits)))
    members = {"audio.npy": npy(audio, "<i2", (len(audio),)),
               "offsets.npy": npy(offsets, "<i8", (len(offsets),)),
               "utterances.tsv": ("\n".join(lines) + "\n").encode("ascii")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = 0o644 << 16
            z.writestr(info, content)
    with open(out, "wb") as f:
        f.write(buffer.getvalue())


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3])
