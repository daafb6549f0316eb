/* The emulator's widget mode: an emulated USB-Pro RDM widget served on a PTY. */
#ifndef LEDSENTRY_WIDGET_HOST_H
#define LEDSENTRY_WIDGET_HOST_H

/* Runs until SIGINT/SIGTERM. argv as for `ledsentry-emu --mode widget ...`. */
int lighting_widget_main(int argc, char **argv);

#endif
