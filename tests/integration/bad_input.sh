#!/bin/sh
# bad_input.sh: malformed kernels and bad arguments give exactly one line naming the problem
# on stderr, nothing on stdout, and a non-zero status.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch

one_line() { # WHAT REGEX args...
    what=$1; re=$2; shift 2
    run_vm "$d/out" "$d/err" "$@"
    [ "$status" -ne 0 ] || fail "$what: exit status 0"
    [ "$status" -lt 128 ] || { cat "$d/err"; fail "$what: crashed (status $status)"; }
    [ ! -s "$d/out" ] || { cat "$d/out"; fail "$what: printed on stdout"; }
    n=$(wc -l <"$d/err")
    [ "$n" -eq 1 ] || { cat "$d/err"; fail "$what: $n lines on stderr, want 1"; }
    expect_line "$d/err" "$re" "$what"
    echo "ok: $what: $(cat "$d/err")"
}

printf 'this is not an ELF file\n' >"$d/text"
: >"$d/empty"
head -c 40 "$KERNEL" >"$d/trunc"
python3 "$(dirname "$0")/mkelf.py" nonote "$d/nonote"
python3 "$(dirname "$0")/mkelf.py" outside "$d/outside"
python3 "$(dirname "$0")/mkelf.py" lowseg "$d/lowseg"
# bzImages: "HdrS" with boot protocol 2.01, and a 2.15 header whose file ends at the header.
python3 -c 'import sys
b = bytearray(0x1000); b[0x1fe:0x200] = b"\x55\xaa"; b[0x202:0x206] = b"HdrS"
b[0x206:0x208] = bytes.fromhex(sys.argv[2]); open(sys.argv[1], "wb").write(b[:int(sys.argv[3])])
' "$d/oldbz" 0102 4096
python3 -c 'import sys
b = bytearray(0x1000); b[0x1fe:0x200] = b"\x55\xaa"; b[0x202:0x206] = b"HdrS"
b[0x206:0x208] = bytes.fromhex(sys.argv[2]); open(sys.argv[1], "wb").write(b[:int(sys.argv[3])])
' "$d/shortbz" 0f02 600
truncate -s 40M "$d/bigrd"

one_line "missing kernel" "kernel: $d/missing: No such file" run -k "$d/missing"
one_line "directory" "not a regular file" run -k "$d"
one_line "text file" "not an ELF file nor a bzImage" run -k "$d/text"
one_line "empty file" "not an ELF file" run -k "$d/empty"
one_line "truncated ELF" "truncated|outside the file" run -k "$d/trunc"
one_line "no PVH note" "no PVH entry note" run -k "$d/nonote"
one_line "segment outside RAM" "outside guest RAM" run -k "$d/outside"
one_line "segment over boot structures" "boot structures" run -k "$d/lowseg"
one_line "shared object" "not an executable ELF" run -k /bin/true
one_line "bzImage too old" "boot protocol 2.01 is too old" run -k "$d/oldbz"
one_line "bzImage truncated" "truncated" run -k "$d/shortbz"
one_line "missing initrd" "--initrd: $d/missing: No such file" run -k "$KERNEL" -i "$d/missing"
one_line "empty initrd" "--initrd: .*empty file" run -k "$KERNEL" --initrd "$d/empty"
one_line "directory initrd" "--initrd: .*not a regular file" run -k "$KERNEL" -i "$d"
one_line "initrd too large" "--initrd: .*do not fit" run -k "$KERNEL" -m 32M -i "$d/bigrd"
one_line "bad -m" "-m/--memory" run -k "$KERNEL" -m 12Q
one_line "tiny -m" "-m/--memory" run -k "$KERNEL" -m 1M
one_line "bad -c" "-c/--cpus" run -k "$KERNEL" -c 0
one_line "huge -c" "-c/--cpus" run -k "$KERNEL" -c 100000
one_line "bad --irqchip" "--irqchip" run -k "$KERNEL" --irqchip=none
one_line "unknown option" "unknown option" run -k "$KERNEL" --bogus
one_line "no kernel" "no kernel" run
one_line "stray argument" "unexpected argument" run -k "$KERNEL" stray
one_line "unknown command" "unknown command" frobnicate
one_line "exits on garbage" "not a minivmm exit log" exits "$d/text"
pass "bad input"
