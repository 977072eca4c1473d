"""Check sockit's hex dump text (connect -x, serve -v -v) against the bytes
that really went each way.

    hexdump_check.py DUMP SENT RECEIVED

DUMP holds the dump lines ('>' sent, '<' received; other lines are
ignored); SENT and RECEIVED the bytes of each direction. Every line must be
"D OOOOOOOO  HH HH .. HH  HH .. HH  |ASCII|" with the offset where it
starts in its direction, the hex of at most 16 bytes (8, a space, 8, padded
to the full width), and the same bytes as printable ASCII or '.'. The bytes
of each direction, in order, must be exactly SENT and RECEIVED."""
import re
import sys

LINE = re.compile(r"^([<>]) ([0-9a-f]{8}) ((?: (?:[0-9a-f]{2}|  )){8}) ((?: (?:[0-9a-f]{2}|  )){8})  \|(.*)\|$")


def main():
    dump, sent, received = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
    got = {">": bytearray(), "<": bytearray()}
    for n, line in enumerate(open(dump, encoding="latin-1").read().splitlines(), 1):
        if not line[:1] in ("<", ">"):
            continue
        m = LINE.match(line)
        assert m, "line %d is not a dump line: %r" % (n, line)
        d, off, left, right, text = m.groups()
        assert int(off, 16) == len(got[d]), "line %d: offset %s, %d bytes so far" % (n, off, len(got[d]))
        hexes = (left + right).split()
        chunk = bytes(int(h, 16) for h in hexes)
        # No holes: padding only after the last byte.
        assert re.fullmatch(r"( [0-9a-f]{2})*(   )*", left + right), "line %d has a hole: %r" % (n, line)
        assert 1 <= len(chunk) <= 16, line
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        assert text == ascii_, "line %d: ascii %r, wanted %r" % (n, text, ascii_)
        got[d] += chunk
    assert bytes(got[">"]) == sent, "sent: dump has %d bytes, %d went" % (len(got[">"]), len(sent))
    assert bytes(got["<"]) == received, "received: dump has %d bytes, %d came" % (len(got["<"]), len(received))


main()
