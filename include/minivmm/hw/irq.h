/*
 * irq.h: an interrupt line, as a device model sees it.
 *
 * A device holds a struct irq_line and raises or lowers it; what sits behind (our IOAPIC model
 * in split-irqchip mode, KVM_IRQ_LINE with KVM's full irqchip, a test double) is the line's
 * ops. Devices never know which.
 */
#ifndef MINIVMM_IRQ_H
#define MINIVMM_IRQ_H

struct irq_line_ops {
    void (*set_level)(void *opaque, unsigned gsi, int level);
};

struct irq_line {
    const struct irq_line_ops *ops; /* NULL: an unconnected line */
    void *opaque;
    unsigned gsi;
};

static inline void irq_line_set(const struct irq_line *line, int level)
{
    if (line->ops)
        line->ops->set_level(line->opaque, line->gsi, level);
}

#endif
