/* Placeholder dispatch for models not built yet in this tree. */
#include "models.h"

#include <errno.h>

int sk__model_run(sk_server *s)
{
    (void)s;
    return -ENOTSUP;
}
