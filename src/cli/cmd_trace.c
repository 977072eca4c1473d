/* sockit trace-route: placeholder until the implementation lands. */
#include "cli.h"

int cmd_trace(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return EXIT_FAIL;
}
