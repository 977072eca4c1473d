#!/usr/bin/env bash
# The sweep's charts render in a browser: a small sweep over two models,
# each SVG opened by headless Chromium and screenshotted, and the picture
# checked - each model's line colour is drawn across the plot, not only in
# the legend, and the axes' ink is there.
. "$(dirname "$0")/lib.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || fail "chromium is not installed (tests/install-deps.sh installs it)"

expect_rc 0 "$SOCKIT" bench --sweep -d 0.5 --conns 1,4,16 --models loop,thread --out "$TMP/sweep"

# shot SVG PNG: render at 900x600 (the charts are 800x480).
shot() {
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$TMP/profile" --window-size=900,600 --screenshot="$2" "file://$1" \
        >"$TMP/chromium.log" 2>&1 || fail "chromium could not render $1: $(tail -n3 "$TMP/chromium.log")"
    [[ -s $2 ]] || fail "chromium wrote no screenshot of $1"
}

for chart in rps p99; do
    shot "$TMP/sweep/$chart.svg" "$TMP/$chart.png"
    python3 - "$TMP/$chart.png" <<'PY' || fail "$chart.svg did not render as a chart (see $TMP/$chart.png)"
import struct, sys, zlib

def decode(path):
    """RGB(A) 8-bit PNG -> (width, height, rows of (r, g, b))."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, rows, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows

w, h, rows = decode(sys.argv[1])
near = lambda p, q: sum(abs(a - b) for a, b in zip(p, q)) < 40
series = {"loop (#1f77b4)": (0x1F, 0x77, 0xB4), "thread (#d62728)": (0xD6, 0x27, 0x28)}
for name, col in series.items():
    xs = [x for row in rows for x, p in enumerate(row) if near(p, col)]
    assert len(xs) > 150, f"{name}: only {len(xs)} pixels of its colour"
    # The legend swatch is short; the data line spans most of the plot.
    assert max(xs) - min(xs) > w // 3, f"{name}: drawn only from x={min(xs)} to x={max(xs)}"
dark = sum(1 for row in rows for p in row if max(p) < 100)
assert dark > 500, f"only {dark} dark pixels: no axes or labels"
print(f"{sys.argv[1]}: {w}x{h}, both series drawn across the plot, {dark} dark pixels")
PY
    pass "$chart.svg renders in $(basename "$browser"): both model lines and the axes drawn"
done
