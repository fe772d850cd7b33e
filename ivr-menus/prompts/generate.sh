#!/usr/bin/env bash
# Regenerates every shipped voice prompt of `hotline` (8 kHz, 16-bit, mono WAV) with
# espeak-ng's Mandarin voice, and the hold music (Ogg Vorbis) with sox + ffmpeg.
# Needs: espeak-ng, sox, ffmpeg (with libvorbis). Run from anywhere:
#   ivr-menus/prompts/generate.sh                  # every prompt
#   ivr-menus/prompts/generate.sh robot-thanks …   # only these (names without .wav)
# The IVR menus reference these exact file names; keep them.
set -euo pipefail
# sox -R and ffmpeg bitexact: the same inputs give byte-identical files, so a rerun shows no diff.
cd "$(dirname "$0")"

# espeak-ng Mandarin, the `cmn-Latn-pinyin` variant: its dictionary turns hanzi into pinyin,
# and plain `-v cmn` then reads that pinyin as *English* ("nin two" for 您). This variant
# reads it as Mandarin.
VOICE="cmn-latn-pinyin"
SPEED=150        # words per minute; slower than default for telephone clarity
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# espeak-ng's dictionary reads the polyphone 重 as zhòng; in 重听 / 重新 ("again") it is chóng.
# This voice reads inline pinyin, so spell those out.
pronounce() {
  sed -e 's/重听/chong2听/g' -e 's/重新/chong2新/g' <<<"$1"
}

ONLY=("$@")
wanted() { # wanted NAME: no names given, or NAME among them
  [ "${#ONLY[@]}" -eq 0 ] && return 0
  local n
  for n in "${ONLY[@]}"; do [ "$n" = "$1" ] && return 0; done
  return 1
}

say() { # say NAME TEXT
  local name="$1" text
  wanted "$name" || return 0
  text="$(pronounce "$2")"
  espeak-ng -v "$VOICE" -s "$SPEED" -w "$tmp/$name.raw.wav" "$text"
  # Band-limit to telephone range, resample to 8 kHz mono 16-bit, trim silence at both ends
  # (keep 100 ms lead-in), normalise to -3 dBFS so every prompt plays at the same level.
  sox -R "$tmp/$name.raw.wav" -r 8000 -c 1 -b 16 "$name.wav" \
    vol 0.7 highpass 200 lowpass 3400 \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
    pad 0.1 0.1 norm -3
}

# The hotline number is read digit by digit (一二三四五), as callers know it, not as a quantity.
say greeting                "您好，欢迎致电一二三四五政务服务便民热线。"
say main-menu               "企业服务请按1；方言、外语、手语服务请按2；人工服务请按0；重听请按9。"
say special-menu            "方言服务请按1；外语服务请按2；手语服务请按3；人工服务请按0；返回上一级请按星号键。"
say invalid-key             "您的输入有误，请重新选择。"
say no-input                "没有收到您的按键，请重新选择。"
say transfer                "正在为您转接人工服务，请稍候。"
say queue-position-prefix   "您前面还有"
say queue-position-suffix   "位来电在等候，请您耐心等待，我们将尽快为您服务。"
digits=(零 一 二 三 四 五 六 七 八 九)
for i in "${!digits[@]}"; do
  say "digit-$i" "${digits[$i]}"
done

# The callback robot (回访机器人, ivr-menus/callback.toml): says who calls and why, asks for
# consent, three questions and the reason for 不满意; 0 reaches a person at every step.
say robot-identify   "您好，这里是一二三四五热线，对您近期反映的诉求进行回访。"
say robot-consent    "方便的话请按1，不方便请按2，转人工服务请按0。"
say robot-contacted  "承办单位是否与您联系过？联系过请按1，没有联系请按2，转人工服务请按0。"
say robot-solved     "您反映的问题是否已经解决？已解决请按1，未解决请按2，转人工服务请按0。"
say robot-rating     "请评价诉求办理结果：满意请按1，基本满意请按2，不满意请按3，转人工服务请按0。"
say robot-reason     "请说出您不满意的原因，说完请按井号键；转人工服务请按0。"
say robot-thanks     "感谢您对一二三四五热线的支持。如有新的诉求，请按0转人工服务。再见。"
say robot-goodbye    "好的，不打扰您了。如需人工服务，请按0。感谢您的支持，再见。"

# "Call me back" instead of waiting (C8, [queue_audio] callback_*): offered when the queue's
# forecast wait is long; the number is read back with the digit prompts above.
say callback-offer           "等候时间较长。保留排队位置并由我们回电，请按1。"
say callback-confirm-prefix  "我们将回电至"
say callback-confirm-suffix  "确认请按1，使用其他号码请按2，继续等候请按星号键。"
say callback-enter           "请输入回电号码，以井号键结束。"
say callback-accepted        "已为您保留排队位置，轮到您时我们将回电，请挂机。"
say callback-agent           "回电：正在为您呼叫排队回电的市民，请稍候。"
# Surge mode (C8): a short, non-commercial notice before the menu.
say surge-notice             "当前来电较多，我们正在增派人员，请您耐心等候，也可选择回电服务。"

# Integrated numbers (GB/T 44190 4.2, [numbers.<digits>] in config/hotline.toml): the short
# notice a caller of an old number hears before being put through (purpose `information`).
say notice-12315             "一二三一五市场监管热线已并入一二三四五热线。"
say notice-12333             "一二三三三人社服务热线已并入一二三四五热线。"

# China's ring-back tone (GB/T 15279: 450 Hz, 1 s on, 4 s off), looped to a callback's agent
# while the citizen's phone rings.
if wanted ringback; then
  sox -R -n -r 8000 -c 1 -b 16 ringback.wav synth 1 sine 450 vol 0.3 pad 0 4
fi

wanted hold-music || { echo "prompts regenerated in $(pwd)"; exit 0; }

# Hold music: ~20 s of soft, slow arpeggios (C-major and A-minor, 4 notes per chord, one
# note at a time, so no pair of tones can ever look like a DTMF digit). No speech, no ads.
notes=(C4 E4 G4 C5  A3 C4 E4 A4  F3 A3 C4 F4  G3 B3 D4 G4)
parts=()
for round in 1 2 3; do
  for n in "${notes[@]}"; do
    f="$tmp/note-$round-$n.wav"
    # 0.42 s sine with a soft attack and long release, plus a quiet octave for warmth.
    sox -R -n -r 8000 -c 1 -b 16 "$f" synth 0.42 sine "$n" synth 0.42 sine mix "%+12" \
      fade q 0.04 0.42 0.3 vol 0.25
    parts+=("$f")
  done
done
# Fade *before* reverb: sox's `fade … 0 …` after `reverb` misjudges the length and halves it.
sox -R "${parts[@]}" "$tmp/hold.wav" fade t 0.5 0 1.0 reverb 40 channels 1 norm -6
ffmpeg -loglevel error -y -i "$tmp/hold.wav" -fflags +bitexact -flags:a +bitexact -ar 16000 -ac 1 -c:a libvorbis -q:a 2 hold-music.ogg
echo "prompts regenerated in $(pwd)"
