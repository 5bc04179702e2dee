#!/usr/bin/env python3
"""Puts right the packed relative relocations (DT_RELR) that BOLT 22.1 writes to the wrong place.

Usage: bench/bolt_relr_fix.py INPUT BOLTED

A position-independent executable linked with `-z pack-relative-relocs` keeps each relocated
pointer's unrelocated value in place, at the pointer itself. BOLT 22.1.8 writes the moved
functions' new addresses into those places by taking each pointer's address for its file offset
(fixed upstream in llvm-project #213000): where a writable segment's addresses and file offsets
differ (by 0x2000 and 0x3000 in hapee-lb's link), the pointers keep their old values (`.init_array`
then calls into the old code, which BOLT no longer keeps whole) and the 8 bytes at the wrong
offset, data of a pointer further on, are overwritten. This script reads the values BOLT computed
from where it wrote them, puts each at its pointer's true file offset, and restores from INPUT
(the binary BOLT read, whose writable segments it leaves in place) the bytes it overwrote.
Checks: every code pointer's new value must be a function's start in BOLTED whose name is that of
the function it pointed to in INPUT; the script stops otherwise."""
import bisect
import struct
import subprocess
import sys


def sections(path):
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        if "]" not in line or line.strip().startswith("[Nr]"):
            continue
        parts = line.split("]", 1)[1].split()
        if len(parts) >= 5:
            found[parts[0]] = (int(parts[2], 16), int(parts[3], 16), int(parts[4], 16))
    return found


def load_segments(path):
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True, check=True).stdout
    segs = []
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == "LOAD":
            off, va, filesz = int(parts[1], 16), int(parts[2], 16), int(parts[4], 16)
            segs.append((va, va + filesz, off))
    return segs


def file_offset(segs, va):
    for start, end, off in segs:
        if start <= va < end:
            return off + va - start
    return None


def relr_locations(data, off, size):
    locs, base = [], 0
    for (entry,) in struct.iter_unpack("<Q", data[off : off + size]):
        if entry & 1 == 0:
            locs.append(entry)
            base = entry + 8
        else:
            for bit in range(1, 64):
                if entry >> bit & 1:
                    locs.append(base + (bit - 1) * 8)
            base += 63 * 8
    return locs


def function_starts(path):
    out = subprocess.run(["nm", "--defined-only", path], capture_output=True, text=True, check=True).stdout
    starts = {}
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            starts.setdefault(int(parts[0], 16), set()).add(parts[2])
    return starts


def main():
    src_path, out_path = sys.argv[1], sys.argv[2]
    src = open(src_path, "rb").read()
    out = bytearray(open(out_path, "rb").read())
    out_secs = sections(out_path)
    segs = load_segments(out_path)
    src_segs = load_segments(src_path)
    _, relr_off, relr_size = out_secs[".relr.dyn"]
    locs = relr_locations(out, relr_off, relr_size)
    text_va, _, text_size = sections(src_path)[".text"]
    old_starts, new_starts = function_starts(src_path), function_starts(out_path)
    old_sorted = sorted(old_starts)
    old_count, new_count, new_addr = {}, {}, {}
    for addr, names in old_starts.items():
        for n in names:
            old_count[n] = old_count.get(n, 0) + 1
    for addr, names in new_starts.items():
        for n in names:
            new_count[n] = new_count.get(n, 0) + 1
            new_addr[n] = addr
    moved, values = 0, {}
    for loc in locs:
        right, src_off = file_offset(segs, loc), file_offset(src_segs, loc)
        if right is None or src_off is None or right == loc:
            continue
        (old,) = struct.unpack_from("<Q", src, src_off)
        value = old
        if text_va <= old < text_va + text_size:
            start = old_sorted[bisect.bisect_right(old_sorted, old) - 1]
            names = old_starts[start]
            unique = [new_addr[n] for n in names if old_count.get(n) == 1 and new_count.get(n) == 1]
            if unique and old == start:
                value = unique[0]
            elif unique and unique[0] == start:
                value = old  # a function BOLT left in place (--skip-funcs)
            else:
                # A name given twice: the value BOLT computed, where it wrote it.
                (value,) = struct.unpack_from("<Q", out, loc)
                if old != start or not names & new_starts.get(value, set()):
                    sys.exit(f"bolt_relr_fix: pointer at {loc:#x} to {old:#x} ({sorted(names)}) not mapped")
            moved += value != old
        values[loc] = (right, value)
    # The bytes BOLT wrote at each pointer's address taken as a file offset, restored first
    # (those that are pointers themselves are written again below), within the segments that
    # BOLT left where they were.
    kept = [(off, off + end - va) for va, end, off in segs if (va, end, off) in src_segs]
    restored = 0
    for loc, (_, value) in values.items():
        # Only where the bytes are still the value BOLT put there: a later patch of its own at
        # that offset (`.dynamic`'s DT_FINI hook, the GOT) stays.
        if (
            any(lo <= loc and loc + 8 <= hi for lo, hi in kept)
            and struct.unpack_from("<Q", out, loc)[0] == value
            and out[loc : loc + 8] != src[loc : loc + 8]
        ):
            out[loc : loc + 8] = src[loc : loc + 8]
            restored += 1
    for right, value in values.values():
        struct.pack_into("<Q", out, right, value)
    open(out_path, "wb").write(out)
    print(f"bolt_relr_fix: {len(values)} pointers put in place ({moved} to moved code), {restored} overwritten slots restored")


main()
