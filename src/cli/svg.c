/* Line charts as standalone SVG, drawn by hand: log-scale x axis (connection
 * counts), linear y axis with round ticks, one colored line per series and a
 * legend, so a sweep's winner shows at a glance in any browser. */
#include "bench_cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 760
#define H 440
#define ML 80 /* margins: room for tick labels and the legend */
#define MR 190
#define MT 48
#define MB 60

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

static void text_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* 1, 2 or 5 times a power of ten, at least v. */
static double nice_step(double v)
{
    double p = pow(10, floor(log10(v)));
    double m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_num(double v, char *buf, size_t len)
{
    if (v >= 1e6)
        snprintf(buf, len, "%gM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%gk", v / 1e3);
    else
        snprintf(buf, len, "%g", v);
}

int svg_line_chart(const char *path, const chart *c)
{
    double xmin = INFINITY, xmax = -INFINITY, ymax = 0;
    for (int s = 0; s < c->nseries; s++) {
        for (int i = 0; i < c->series[s].n; i++) {
            double x = c->series[s].x[i], y = c->series[s].y[i];
            if (x > 0) {
                xmin = fmin(xmin, x);
                xmax = fmax(xmax, x);
            }
            if (y >= 0)
                ymax = fmax(ymax, y);
        }
    }
    if (!isfinite(xmin)) {
        xmin = 1;
        xmax = 10;
    }
    /* Whole decades on x; round steps on y. */
    double lx0 = floor(log10(xmin)), lx1 = ceil(log10(xmax));
    if (lx1 <= lx0)
        lx1 = lx0 + 1;
    if (ymax <= 0)
        ymax = 1;
    double step = nice_step(ymax / 5), ytop = ceil(ymax / step) * step;
    double pw = W - ML - MR, ph = H - MT - MB;
#define PX(x) (ML + (log10(x) - lx0) / (lx1 - lx0) * pw)
#define PY(y) (MT + ph - (y) / ytop * ph)

    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -errno;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H, W, H);
    fprintf(f, "<text x=\"%d\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">",
            (ML + W - MR) / 2);
    text_escaped(f, c->title);
    fputs("</text>\n", f);

    /* Grid and ticks. */
    char lbl[32];
    for (double y = 0; y <= ytop + step / 2; y += step) {
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", ML, PY(y), W - MR, PY(y));
        fmt_num(y, lbl, sizeof lbl);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", ML - 6, PY(y) + 4, lbl);
    }
    for (double e = lx0; e <= lx1; e++) {
        double x = pow(10, e);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", PX(x), MT, PX(x), H - MB);
        fmt_num(x, lbl, sizeof lbl);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", PX(x), H - MB + 18, lbl);
        for (int k = 2; k < 10 && e < lx1; k++) /* minor log ticks */
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>\n", PX(k * x), H - MB,
                    PX(k * x), H - MB + 4);
    }
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n", ML, MT, pw,
            ph);
    fprintf(f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, H - 16);
    text_escaped(f, c->xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(18,%.0f) rotate(-90)\" text-anchor=\"middle\">", MT + ph / 2);
    text_escaped(f, c->ylabel);
    fputs("</text>\n", f);

    /* Series, then the legend. */
    for (int s = 0; s < c->nseries; s++) {
        const chart_series *cs = &c->series[s];
        const char *col = palette[s % (int)(sizeof palette / sizeof palette[0])];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (int i = 0; i < cs->n; i++) {
            if (cs->y[i] >= 0 && cs->x[i] > 0)
                fprintf(f, "%.1f,%.1f ", PX(cs->x[i]), PY(cs->y[i]));
        }
        fputs("\"/>\n", f);
        for (int i = 0; i < cs->n; i++) {
            if (cs->y[i] >= 0 && cs->x[i] > 0)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", PX(cs->x[i]), PY(cs->y[i]),
                        col);
        }
        int ly = MT + 10 + s * 20;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", W - MR + 16,
                ly, W - MR + 40, ly, col);
        fprintf(f, "<text x=\"%d\" y=\"%d\">", W - MR + 46, ly + 4);
        text_escaped(f, cs->name);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
    return fclose(f) == 0 ? 0 : -errno;
}
