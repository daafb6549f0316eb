/* Stand-alone entry for the widget emulator (ledsentry-emu --mode widget dispatches to
 * the same function). */
#include "widget_host.h"

int main(int argc, char **argv)
{
    return lighting_widget_main(argc, argv);
}
