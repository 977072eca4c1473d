/* placeholder */
#include "bench_cli.h"
int bench_sweep(const sweep_opts *o) { (void)o; return 1; }
