/*
 * gfp.h: "get free pages" flags, with Linux's names and meanings (include/linux/gfp_types.h,
 * much reduced). Shared by the buddy allocator, the slab allocator and their callers.
 */
#ifndef MM_GFP_H
#define MM_GFP_H

typedef unsigned int gfp_t;

#define __GFP_DMA 0x01u      /* only ZONE_DMA (< 16 MiB) */
#define __GFP_DMA32 0x02u    /* ZONE_DMA32 or below (< 4 GiB) */
#define __GFP_ZERO 0x04u     /* zero the memory */
#define __GFP_HIGH 0x08u     /* may dip below the min watermark (atomic/high priority) */
#define __GFP_NOWARN 0x10u   /* no message on failure */
#define __GFP_DIRECT_RECLAIM 0x20u /* may sleep (we never reclaim; kept for the semantics) */

#define GFP_KERNEL (__GFP_DIRECT_RECLAIM)
#define GFP_ATOMIC (__GFP_HIGH)
#define GFP_NOWAIT (0u)
#define GFP_DMA (__GFP_DMA)
#define GFP_DMA32 (__GFP_DMA32)

#endif
