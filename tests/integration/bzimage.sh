#!/bin/sh
# bzimage.sh: a synthetic bzImage (mkbzimage.py) boots by the Linux boot protocol: its 64-bit
# entry runs in long mode, finds the setup header, the command line and the initrd through
# the zero page in RSI, and exits 0. The banner names the format and the initrd.
. "$(dirname "$0")/lib.sh"
need_kvm
scratch
python3 "$(dirname "$0")/mkbzimage.py" "$d/bz" || fail "mkbzimage.py"
printf 'initrd: hello\n' >"$d/initrd"
# The initrd goes as high as allowed: the top page of 128 MiB, or with 5 GiB the top page below
# initrd_addr_max (0x7fffffff).
for mem in 128M:0x7fff000 5G:0x7ffff000; do
    at=${mem#*:}; mem=${mem%:*}
    run_vm "$d/out" "$d/err" run -k "$d/bz" -i "$d/initrd" -m "$mem" -c 2 \
        --cmdline "console=ttyS0 bz.test"
    expect_status 0 "bzImage -m $mem"
    expect_line "$d/out" '^bzimage: long mode, zero page ok$' "64-bit entry, zero page ($mem)"
    expect_line "$d/out" '^cmdline: console=ttyS0 bz\.test$' "cmd_line_ptr ($mem)"
    expect_line "$d/out" '^initrd: hello$' "ramdisk_image/ramdisk_size ($mem)"
    expect_line "$d/err" \
        "kernel .*/bz \\(bzImage, boot protocol 2\\.15, 64-bit entry 0x1000200\\), initrd 1 KiB at $at\$" \
        "banner ($mem)"
done
pass "bzImage"
