/* Vector table and reset handler: copy .data, zero .bss, paint the stack, run main. */
#include "board.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void UART0_RX_Handler(void);
void TIMER0_Handler(void);
void TIMER1_Handler(void);

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used)) const vector_t vector_table[16 + 32] = {
    (vector_t)&_estack, Reset_Handler, Default_Handler /* NMI */, HardFault_Handler,
    HardFault_Handler /* MemManage */, HardFault_Handler /* BusFault */,
    HardFault_Handler /* UsageFault */, 0, 0, 0, 0, Default_Handler /* SVC */,
    Default_Handler /* DebugMon */, 0, Default_Handler /* PendSV */, Default_Handler /* SysTick */,
    [16 + UART0_RX_IRQ] = UART0_RX_Handler,
    [16 + 1] = Default_Handler,
    [16 + TIMER0_IRQ] = TIMER0_Handler,
    [16 + TIMER1_IRQ] = TIMER1_Handler,
};

void Reset_Handler(void) {
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  stack_paint();
  main();
  semi_exit(0);
}

void Default_Handler(void) {
  semi_log("fwseal-mcu: unexpected interrupt\n");
  semi_exit(3);
}

/* Report the faulting PC from the exception frame, then stop QEMU with a failure code. */
__attribute__((used)) void hard_fault_report(uint32_t *frame) {
  semi_log("fwseal-mcu: HARDFAULT ");
  semi_log_u32("pc", frame[6]);
  semi_log_u32("lr", frame[5]);
  semi_log("\n");
  semi_exit(4);
}

__attribute__((naked)) void HardFault_Handler(void) {
  __asm volatile("tst lr, #4\n"
                 "ite eq\n"
                 "mrseq r0, msp\n"
                 "mrsne r0, psp\n"
                 "b hard_fault_report\n");
}

/* newlib's crt0 is not linked (-nostartfiles); these keep libc's init hooks satisfied. */
void _init(void) {}
void _fini(void) {}
