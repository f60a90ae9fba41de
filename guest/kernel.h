/*
 * kernel.h: what every file of the guest kernel needs: basic macros, the console print
 * functions, panic/BUG and the small libc (lib.c).
 *
 * The kernel is freestanding: <stdint.h>, <stddef.h>, <stdbool.h> and <stdarg.h> come from
 * the compiler, everything else from here.
 */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __noreturn __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __aligned(x) __attribute__((aligned(x)))
#define __unused __attribute__((unused))
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/*
 * BUG(): ud2 raises #UD and the trap handler prints the register dump. Not int3: `int3`
 * and `int n` kill the VM under KVM's instruction emulator.
 */
#define BUG()                                                                                  \
    do {                                                                                       \
        __asm__ volatile("ud2");                                                               \
        __builtin_unreachable();                                                               \
    } while (0)
#define BUG_ON(cond)                                                                           \
    do {                                                                                       \
        if (cond)                                                                              \
            BUG();                                                                             \
    } while (0)

/* kprintf.c */
void kprintf(const char *fmt, ...) __printf(1, 2);
void vkprintf(const char *fmt, va_list ap) __printf(1, 0);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) __printf(3, 0);

/* traps.c */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Parse an unsigned decimal (or 0x-prefixed hex) number of exactly len chars; 0 or -1. */
int parse_u64(const char *s, size_t len, uint64_t *out);

static inline uint32_t be32_to_cpu(uint32_t v)
{
    return __builtin_bswap32(v);
}

#endif
