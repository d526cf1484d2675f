/*
 * A whole 1:1 comparison (see pairwise.py) in one call: the local similarity of the minutia pairs
 * that may count, the mutually best pairs, their relaxation and the sum of the best. The arithmetic
 * is that of pairwise.py's NumPy path (which stays as the reference and the fallback): float32 cell
 * sums, the rest in double precision.
 *
 * Why not BLAS: a pair counts only when its gate is positive (directions less than 90 degrees apart
 * and at least MIN_COMMON_CELLS valid cells in common). On FVC2002 DB1_B about half the pairs fail,
 * so the four dense products the NumPy path multiplies (a.b, |a|^2 + |b|^2, common cells, facing:
 * some 47 us of an 81 us comparison of ~47 minutiae each) mostly computed numbers nobody read. Here
 * the gate comes first and is cheap (a 2-term dot product, then a popcount of two 64-bit cell
 * masks), and the 260-term a.b and the 52-cell norm are summed only for the pairs that pass, four
 * probe minutiae at a time so that each load of the template's row feeds four FMAs. What is left
 * waits mostly on memory: two templates are ~140 KB, rarely in L1/L2 when a comparison starts.
 *
 * Each template is packed once (pack(), kept as PairForm.packed): one bytes object with a row per
 * minutia (cells, energies and validity, padded to whole 8-float vectors), its validity again as a
 * bit mask, and the small arrays the relaxation reads. A comparison then parses two bytes objects
 * and a tuple instead of seventeen arguments and nine buffers.
 *
 * On x86 CPUs with AVX and FMA (checked at run time) the sums use 256-bit vectors; elsewhere, or
 * after use_simd(False), portable code sums the same lanes in another order (the two agree to float
 * rounding). The build is plain -O2 -std=c99 for any CPU, so the vector code asks for its
 * instructions through target attributes, never through compiler flags.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "GCC or Clang needed (vector extensions, target attributes): the matcher uses NumPy without this"
#endif
#if defined(__x86_64__) || defined(__i386__)
#define HAVE_X86_SIMD 1
#include <immintrin.h>
#define SIMD __attribute__((target("avx,fma,popcnt")))
#else
#define HAVE_X86_SIMD 0
#endif

#define MAX_RELAX 64
#define LANES 8                  /* floats per 256-bit vector: rows are padded to whole vectors */
#define ALIGN 32                 /* every section of a packed form starts at a multiple of this */
#define MAX_MINUTIAE 65535       /* keeps every size of a packed form far from overflow */
#define MAX_DESCRIPTOR 65536
#define MAGIC 0x314d5943         /* "CYM1": refuses bytes that are not a packed form */
/* Added to every a.b and every |a|^2 + |b|^2, as pairwise.py's constant columns do: t stays > 0 for
 * a pair that passes the gate with nothing in common, and the division never meets 0. */
#define TINY 1e-20f
#define NORM_FLOOR 1e-9f

typedef struct { float re, im; } cfloat;

/* A packed form: a header of four int32 (MAGIC, n, d, c) in the first ALIGN bytes, then these
 * sections in this order, each padded with zeros to a multiple of ALIGN bytes, so that a whole
 * vector read at a multiple of LANES floats stays inside its section. */
typedef struct {
    int n, d, c;                 /* usable minutiae; descriptor and spatial cells */
    int ds, cs, rs;              /* d and c rounded up to LANES; a row's stride, ds + 2 cs */
    const uint64_t *mask;        /* (n) bit k set when spatial cell k is valid (c <= 64) */
    const float *cos, *sin;      /* (n) the minutia's direction */
    const float *rows;           /* (n, rs) [cylinder cells (0 where invalid), energy per spatial
                                  * cell, 1 where it is valid]: what t reads, one stream per minutia */
    const cfloat *position, *position_k, *heading_conj, *heading_k;  /* (n) as in PairForm */
    const float *inv_tol2;       /* (n, n) */
    size_t size;                 /* bytes in all */
} Form;

#define SECTIONS 9

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* Byte offsets of a form's sections; returns its size. */
static size_t offsets(int n, int d, int c, size_t off[SECTIONS])
{
    const size_t m = (size_t)n, rs = round_up((size_t)d, LANES) + 2 * round_up((size_t)c, LANES);
    const size_t bytes[SECTIONS] = {m * sizeof(uint64_t), m * sizeof(float), m * sizeof(float),
                                    m * rs * sizeof(float), m * sizeof(cfloat), m * sizeof(cfloat),
                                    m * sizeof(cfloat), m * sizeof(cfloat), m * m * sizeof(float)};
    size_t at = ALIGN;
    for (int s = 0; s < SECTIONS; s++) {
        off[s] = at;
        at = round_up(at + bytes[s], ALIGN);
    }
    return at;
}

/* Sets f's sizes and its pointers into base (n, d, c checked by the callers with sizes_ok). */
static void layout(Form *f, const char *base, int n, int d, int c)
{
    size_t off[SECTIONS];
    f->size = offsets(n, d, c, off);
    f->n = n;
    f->d = d;
    f->c = c;
    f->ds = (int)round_up((size_t)d, LANES);
    f->cs = (int)round_up((size_t)c, LANES);
    f->rs = f->ds + 2 * f->cs;
    f->mask = (const uint64_t *)(base + off[0]);
    f->cos = (const float *)(base + off[1]);
    f->sin = (const float *)(base + off[2]);
    f->rows = (const float *)(base + off[3]);
    f->position = (const cfloat *)(base + off[4]);
    f->position_k = (const cfloat *)(base + off[5]);
    f->heading_conj = (const cfloat *)(base + off[6]);
    f->heading_k = (const cfloat *)(base + off[7]);
    f->inv_tol2 = (const float *)(base + off[8]);
}

static int sizes_ok(int n, int d, int c)
{
    return n >= 0 && n <= MAX_MINUTIAE && d >= 1 && d <= MAX_DESCRIPTOR && c >= 1 && c <= 64;
}

/* Reads a packed form; a bytes object's data is at least 8-byte aligned, which the masks need. */
static int read_form(PyObject *bytes, Form *f, const char *what)
{
    const char *base = PyBytes_AS_STRING(bytes);
    const Py_ssize_t len = PyBytes_GET_SIZE(bytes);
    int32_t head[4];
    if (len < ALIGN) {
        PyErr_Format(PyExc_ValueError, "%s: not a packed form (%zd bytes)", what, len);
        return -1;
    }
    memcpy(head, base, sizeof(head));
    if (head[0] != MAGIC || !sizes_ok(head[1], head[2], head[3])) {
        PyErr_Format(PyExc_ValueError, "%s: not a packed form", what);
        return -1;
    }
    layout(f, base, head[1], head[2], head[3]);
    if ((size_t)len != f->size) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zu bytes, got %zd", what, f->size, len);
        return -1;
    }
    return 0;
}

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t items, Py_ssize_t itemsize, const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len != items * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd bytes, got %zd", what, items * itemsize, view->len);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/*
 * pack(n, d, c, values, energy, valid, direction, position, position_k, heading_conj, heading_k,
 *      inv_tol2) -> bytes
 *
 * values: (n, d) float32; energy, valid: (n, c) float32; direction: (n, 2) float32 cos, sin;
 * position, position_k, heading_conj, heading_k: (n,) complex64; inv_tol2: (n, n) float32; all
 * C-contiguous (PairForm's arrays).
 */
static PyObject *pack(PyObject *self, PyObject *args)
{
    (void)self;
    int n, d, c;
    PyObject *objs[9];
    if (!PyArg_ParseTuple(args, "iiiOOOOOOOOO", &n, &d, &c, &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                          &objs[5], &objs[6], &objs[7], &objs[8]))
        return NULL;
    if (!sizes_ok(n, d, c)) {
        PyErr_SetString(PyExc_ValueError, "pack: bad sizes");
        return NULL;
    }
    const Py_ssize_t m = n;
    const Py_ssize_t items[9] = {m * d, m * c, m * c, 2 * m, m, m, m, m, m * m};
    const Py_ssize_t sizes[9] = {4, 4, 4, 4, 8, 8, 8, 8, 4};
    static const char *names[9] = {"values", "energy", "valid", "direction", "position", "position_k",
                                   "heading_conj", "heading_k", "inv_tol2"};
    Py_buffer views[9];
    int got = 0;
    for (; got < 9; got++)
        if (get_buffer(objs[got], &views[got], items[got], sizes[got], names[got]) < 0)
            break;
    PyObject *out = NULL;
    if (got == 9) {
        size_t off[SECTIONS];
        out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)offsets(n, d, c, off));
    }
    if (out) {
        char *base = PyBytes_AS_STRING(out);
        Form f;
        const int32_t head[4] = {MAGIC, n, d, c};
        memset(base, 0, PyBytes_GET_SIZE(out));
        memcpy(base, head, sizeof(head));
        layout(&f, base, n, d, c);
        const float *values = views[0].buf, *energy = views[1].buf, *valid = views[2].buf;
        const float *dir = views[3].buf;
        for (int i = 0; i < n; i++) {
            uint64_t mask = 0;
            for (int k = 0; k < c; k++)
                if (valid[(size_t)i * c + k] != 0.0f)
                    mask |= (uint64_t)1 << k;
            ((uint64_t *)f.mask)[i] = mask;
            ((float *)f.cos)[i] = dir[2 * i];
            ((float *)f.sin)[i] = dir[2 * i + 1];
            float *row = (float *)f.rows + (size_t)i * f.rs;
            memcpy(row, values + (size_t)i * d, sizeof(float) * d);
            memcpy(row + f.ds, energy + (size_t)i * c, sizeof(float) * c);
            memcpy(row + f.ds + f.cs, valid + (size_t)i * c, sizeof(float) * c);
        }
        memcpy((cfloat *)f.position, views[4].buf, sizeof(cfloat) * n);
        memcpy((cfloat *)f.position_k, views[5].buf, sizeof(cfloat) * n);
        memcpy((cfloat *)f.heading_conj, views[6].buf, sizeof(cfloat) * n);
        memcpy((cfloat *)f.heading_k, views[7].buf, sizeof(cfloat) * n);
        memcpy((float *)f.inv_tol2, views[8].buf, sizeof(float) * (size_t)n * n);
    }
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&views[i]);
    return out;
}

/* A comparison's two templates (~70 KB each) are rarely in L1/L2 when it starts, and the rows are
 * read in an order (the probe rows the gate picks) that the hardware prefetchers do not foresee:
 * everything is asked for at once, so the misses overlap instead of following one another. */
static void prefetch(const Form *f)
{
    const char *end = (const char *)f->mask - ALIGN + f->size;
    for (const char *at = (const char *)f->mask; at < end; at += 64)
        __builtin_prefetch(at, 0, 3);
}

/* What the mutual-best choice needs of the (m, n) matrix of t = a.b / (|a|^2 + |b|^2), negative where
 * the gate fails, computed a row at a time: each row's best column, the first of equal maxima (as
 * argmax takes it in the NumPy path), and its t; each column's largest t, from 0 (so a row with no
 * pair allowed offers nothing). */
typedef struct {
    float *row;         /* (ts = n rounded up to LANES) scratch: t of one row, -1 where the gate fails */
    int *cols;          /* (n + 3) scratch: the row's columns that pass the gate */
    int *best;          /* (m) */
    double *row_best;   /* (m) */
    float *colmax;      /* (ts) */
    float *t;           /* (m, n) every row's t when not NULL (local_similarities), else unused */
} Ranking;

static int popcount64(uint64_t x)
{
    x -= (x >> 1) & 0x5555555555555555ULL;
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* The columns whose pair with row i passes the gate: at least min_common common cells, and a
 * positive cosine between the directions, as the batch path's rule (facing > 0). The cosine is taken
 * in double, where the float32 products are exact and the sum's sign is right: two minutiae exactly
 * 90 degrees apart (angles are quantised, so it happens) never pass, whatever the rounding. The
 * NumPy path's float32 BLAS products can put a pair within ~1e-7 rad of 90 degrees on either side.
 * Branch-free: about half the pairs fail, at random. */
static int gated_portable(const Form *o, int i, const Form *p, int min_common, int *cols)
{
    const uint64_t mo = o->mask[i];
    const double co = o->cos[i], so = o->sin[i];
    int k = 0;
    for (int j = 0; j < p->n; j++) {
        const double facing = co * p->cos[j] + so * p->sin[j];
        cols[k] = j;
        k += (facing > 0.0) & (popcount64(mo & p->mask[j]) >= min_common);
    }
    return k;
}

/* t = (a.b + TINY) / (|a|^2 + |b|^2 over the common cells + NORM_FLOOR), in float32 like the NumPy
 * path's products; |a|^2 over the common cells is a's energy times b's validity, cell by cell. The
 * portable code sums in LANES lanes held in two 4-float GCC/Clang vectors, which the compiler maps
 * to whatever the build targets (SSE2 on any x86-64, NEON on arm64); wider generic vectors would be
 * split and spilled on the way. */
typedef float float4 __attribute__((vector_size(4 * sizeof(float))));

static float4 load_quad(const float *src)
{
    float4 q;
    memcpy(&q, src, sizeof q);
    return q;
}

/* Lanes read by subscript: taking the vectors' address would keep the accumulators in memory. */
static float sum_lanes(float4 lo, float4 hi)
{
    return lo[0] + lo[1] + lo[2] + lo[3] + hi[0] + hi[1] + hi[2] + hi[3];
}

/* t of row i against four columns: four pairs at a time give eight independent sums, where one
 * pair's two would wait on each other. */
static void t4_portable(const Form *o, int i, const Form *p, const int *j, float *out)
{
    const float *a = o->rows + (size_t)i * o->rs;
    const float *b0 = p->rows + (size_t)j[0] * p->rs, *b1 = p->rows + (size_t)j[1] * p->rs;
    const float *b2 = p->rows + (size_t)j[2] * p->rs, *b3 = p->rows + (size_t)j[3] * p->rs;
    const int ds = o->ds, cs = o->cs;
    float4 l0 = {0}, l1 = {0}, l2 = {0}, l3 = {0}, h0 = {0}, h1 = {0}, h2 = {0}, h3 = {0};
    for (int k = 0; k < ds; k += LANES) {
        const float4 lo = load_quad(a + k), hi = load_quad(a + k + 4);
        l0 += lo * load_quad(b0 + k);
        h0 += hi * load_quad(b0 + k + 4);
        l1 += lo * load_quad(b1 + k);
        h1 += hi * load_quad(b1 + k + 4);
        l2 += lo * load_quad(b2 + k);
        h2 += hi * load_quad(b2 + k + 4);
        l3 += lo * load_quad(b3 + k);
        h3 += hi * load_quad(b3 + k + 4);
    }
    const float dot[4] = {sum_lanes(l0, h0), sum_lanes(l1, h1), sum_lanes(l2, h2), sum_lanes(l3, h3)};
    l0 = l1 = l2 = l3 = h0 = h1 = h2 = h3 = (float4){0};
    /* a's energy times b's validity plus a's validity times b's energy */
    for (int k = ds; k < ds + cs; k += LANES) {
        const float4 e_lo = load_quad(a + k), e_hi = load_quad(a + k + 4);
        const float4 v_lo = load_quad(a + k + cs), v_hi = load_quad(a + k + cs + 4);
        l0 += e_lo * load_quad(b0 + k + cs) + v_lo * load_quad(b0 + k);
        h0 += e_hi * load_quad(b0 + k + cs + 4) + v_hi * load_quad(b0 + k + 4);
        l1 += e_lo * load_quad(b1 + k + cs) + v_lo * load_quad(b1 + k);
        h1 += e_hi * load_quad(b1 + k + cs + 4) + v_hi * load_quad(b1 + k + 4);
        l2 += e_lo * load_quad(b2 + k + cs) + v_lo * load_quad(b2 + k);
        h2 += e_hi * load_quad(b2 + k + cs + 4) + v_hi * load_quad(b2 + k + 4);
        l3 += e_lo * load_quad(b3 + k + cs) + v_lo * load_quad(b3 + k);
        h3 += e_hi * load_quad(b3 + k + cs + 4) + v_hi * load_quad(b3 + k + 4);
    }
    const float norm[4] = {sum_lanes(l0, h0), sum_lanes(l1, h1), sum_lanes(l2, h2), sum_lanes(l3, h3)};
    for (int c = 0; c < 4; c++)
        out[c] = (dot[c] + TINY) / (norm[c] + NORM_FLOOR);
}

static void rank_portable(const Form *o, const Form *p, int min_common, const Ranking *r)
{
    const int n = p->n;
    for (int j = 0; j < n; j++)
        r->colmax[j] = 0.0f;
    for (int i = 0; i < o->n; i++) {
        float *row = r->row;
        for (int j = 0; j < n; j++)
            row[j] = -1.0f;
        int *cols = r->cols;
        const int k = gated_portable(o, i, p, min_common, cols);
        for (int g = 0; g < k; g += 4) {
            const int used = k - g < 4 ? k - g : 4;
            float four[4];
            for (int l = used; l < 4; l++)  /* a short last group repeats its last column */
                cols[g + l] = cols[g + used - 1];
            t4_portable(o, i, p, cols + g, four);
            for (int l = 0; l < used; l++)
                row[cols[g + l]] = four[l];
        }
        if (r->t)
            memcpy(r->t + (size_t)i * n, row, sizeof(float) * n);
        float top = row[0];
        int arg = 0;
        for (int j = 0; j < n; j++) {
            arg = row[j] > top ? j : arg;
            top = row[j] > top ? row[j] : top;
            r->colmax[j] = row[j] > r->colmax[j] ? row[j] : r->colmax[j];
        }
        r->best[i] = arg;
        r->row_best[i] = top;
    }
}

#if HAVE_X86_SIMD
static SIMD int gated_simd(const Form *o, int i, const Form *p, int min_common, int *cols)
{
    const uint64_t mo = o->mask[i];
    const __m256d co = _mm256_set1_pd(o->cos[i]), so = _mm256_set1_pd(o->sin[i]), zero = _mm256_setzero_pd();
    int k = 0;
    /* The direction sections hold whole vectors: the lanes past n are read (zeros) and dropped. */
    for (int v = 0; v < p->n; v += 4) {
        const __m256d facing = _mm256_add_pd(_mm256_mul_pd(co, _mm256_cvtps_pd(_mm_loadu_ps(p->cos + v))),
                                             _mm256_mul_pd(so, _mm256_cvtps_pd(_mm_loadu_ps(p->sin + v))));
        unsigned facing_ok = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(facing, zero, _CMP_GT_OQ));
        if (p->n - v < 4)
            facing_ok &= (1u << (p->n - v)) - 1u;
        while (facing_ok) {
            const int j = v + __builtin_ctz(facing_ok);
            facing_ok &= facing_ok - 1u;
            cols[k] = j;
            k += __builtin_popcountll(mo & p->mask[j]) >= min_common;
        }
    }
    return k;
}

/* Sums of four vectors, one per lane. */
static SIMD inline __m128 sum4(__m256 x0, __m256 x1, __m256 x2, __m256 x3)
{
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(x0, x1), _mm256_hadd_ps(x2, x3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* t of row i against four columns (t4_portable's sums in another order). Two accumulators per pair:
 * eight independent FMA chains keep both FMA units busy, and each load of the row serves the four
 * columns. */
static SIMD __m128 t4_simd(const Form *o, int i, const Form *p, const int *j)
{
    const float *a = o->rows + (size_t)i * o->rs;
    const float *b0 = p->rows + (size_t)j[0] * p->rs, *b1 = p->rows + (size_t)j[1] * p->rs;
    const float *b2 = p->rows + (size_t)j[2] * p->rs, *b3 = p->rows + (size_t)j[3] * p->rs;
    const int ds = o->ds;
    __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0, d3 = d0, e0 = d0, e1 = d0, e2 = d0, e3 = d0;
    int x = 0;
    for (; x + 2 * LANES <= ds; x += 2 * LANES) {
        const __m256 a0 = _mm256_loadu_ps(a + x), a1 = _mm256_loadu_ps(a + x + LANES);
        d0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + x), d0);
        e0 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b0 + x + LANES), e0);
        d1 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b1 + x), d1);
        e1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b1 + x + LANES), e1);
        d2 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b2 + x), d2);
        e2 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b2 + x + LANES), e2);
        d3 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b3 + x), d3);
        e3 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b3 + x + LANES), e3);
    }
    if (x < ds) {
        const __m256 a0 = _mm256_loadu_ps(a + x);
        d0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b0 + x), d0);
        d1 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b1 + x), d1);
        d2 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b2 + x), d2);
        d3 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b3 + x), d3);
    }
    const __m128 dot = sum4(_mm256_add_ps(d0, e0), _mm256_add_ps(d1, e1), _mm256_add_ps(d2, e2),
                            _mm256_add_ps(d3, e3));

    /* Energy of one side times validity of the other: energy at ds, validity at ds + cs. */
    const int cs = o->cs;
    d0 = d1 = d2 = d3 = e0 = e1 = e2 = e3 = _mm256_setzero_ps();
    for (x = ds; x < ds + cs; x += LANES) {
        const __m256 ea = _mm256_loadu_ps(a + x), va = _mm256_loadu_ps(a + x + cs);
        d0 = _mm256_fmadd_ps(ea, _mm256_loadu_ps(b0 + x + cs), d0);
        e0 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b0 + x), e0);
        d1 = _mm256_fmadd_ps(ea, _mm256_loadu_ps(b1 + x + cs), d1);
        e1 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b1 + x), e1);
        d2 = _mm256_fmadd_ps(ea, _mm256_loadu_ps(b2 + x + cs), d2);
        e2 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b2 + x), e2);
        d3 = _mm256_fmadd_ps(ea, _mm256_loadu_ps(b3 + x + cs), d3);
        e3 = _mm256_fmadd_ps(va, _mm256_loadu_ps(b3 + x), e3);
    }
    const __m128 norm = sum4(_mm256_add_ps(d0, e0), _mm256_add_ps(d1, e1), _mm256_add_ps(d2, e2),
                             _mm256_add_ps(d3, e3));
    return _mm_div_ps(_mm_add_ps(dot, _mm_set1_ps(TINY)), _mm_add_ps(norm, _mm_set1_ps(NORM_FLOOR)));
}

static SIMD void rank_simd(const Form *o, const Form *p, int min_common, const Ranking *r)
{
    const int ts = (int)round_up((size_t)p->n, LANES);
    float *row = r->row, four[4];
    int *cols = r->cols;
    for (int v = 0; v < ts; v += LANES)
        _mm256_storeu_ps(r->colmax + v, _mm256_setzero_ps());
    for (int i = 0; i < o->n; i++) {
        for (int v = 0; v < ts; v += LANES)
            _mm256_storeu_ps(row + v, _mm256_set1_ps(-1.0f));
        const int k = gated_simd(o, i, p, min_common, cols);
        for (int g = 0; g < k; g += 4) {
            const int used = k - g < 4 ? k - g : 4;
            for (int l = used; l < 4; l++)  /* a short last group repeats its last column */
                cols[g + l] = cols[g + used - 1];
            _mm_storeu_ps(four, t4_simd(o, i, p, cols + g));
            for (int l = 0; l < used; l++)
                row[cols[g + l]] = four[l];
        }
        if (r->t)
            memcpy(r->t + (size_t)i * p->n, row, sizeof(float) * p->n);
        /* The row's maximum (padding lanes hold -1, never above it), then its first position. */
        __m256 top = _mm256_set1_ps(-1.0f);
        for (int v = 0; v < ts; v += LANES) {
            const __m256 x = _mm256_loadu_ps(row + v);
            top = _mm256_max_ps(top, x);
            _mm256_storeu_ps(r->colmax + v, _mm256_max_ps(_mm256_loadu_ps(r->colmax + v), x));
        }
        top = _mm256_max_ps(top, _mm256_permute2f128_ps(top, top, 1));
        top = _mm256_max_ps(top, _mm256_permute_ps(top, 0x4e));
        top = _mm256_max_ps(top, _mm256_permute_ps(top, 0xb1));
        int arg = 0;
        for (int v = 0; v < ts; v += LANES) {
            const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + v), top, _CMP_EQ_OQ));
            if (hit) {
                arg = v + __builtin_ctz((unsigned)hit);
                break;
            }
        }
        r->best[i] = arg;
        r->row_best[i] = row[arg];
    }
}

static int simd_supported = 0;  /* set once, when the module is loaded */
#endif

typedef void (*rank_fn)(const Form *, const Form *, int, const Ranking *);
static rank_fn rank_pairs = rank_portable;

/* Moves the k largest of key[idx[0..n)] to idx[0..k) (k < n), equal keys ordered by the larger
 * tie[] when given; partial selection sort: n <= a few dozen, so this beats any cleverer selection. */
static void top_k(const double *key, const double *tie, int *idx, int n, int k)
{
    for (int a = 0; a < k; a++) {
        int pick = a;
        for (int b = a + 1; b < n; b++) {
            double kb = key[idx[b]], kp = key[idx[pick]];
            if (kb > kp || (tie && kb == kp && tie[idx[b]] > tie[idx[pick]]))
                pick = b;
        }
        int tmp = idx[a];
        idx[a] = idx[pick];
        idx[pick] = tmp;
    }
}

typedef struct {
    int n_relax, iterations, wanted;
    double weight, k, resolution;
} Relaxation;

/* From the ranking on: the mutually best pairs, at most n_relax of them, relaxed; the sum of the
 * ``averaged`` best by efficiency and the largest support. Returns averaged (0: fewer than two pairs). */
static int relax(const Form *o, const Form *p, const int *best, const double *row_best, const float *colmax,
                 int *offered, const Relaxation *cfg, double *total, double *support)
{
    const int m = o->n, n = p->n;
    const cfloat *pos_o = o->position, *pos_p = p->position_k, *head_o = o->heading_conj, *head_p = p->heading_k;
    /* Each template minutia offers one pair: with its best probe minutia, if that choice is mutual. */
    int r = 0;
    for (int i = 0; i < m; i++)
        if (row_best[i] >= colmax[best[i]])
            offered[r++] = i;
    if (r > cfg->n_relax) {
        top_k(row_best, NULL, offered, r, cfg->n_relax);
        r = cfg->n_relax;
    }
    if (r < 2)
        return 0;
    const int *ig = offered; /* the r pairs relaxed: rows of the template, each with its best probe column */
    double lam0[MAX_RELAX], lam[MAX_RELAX], next[MAX_RELAX], rho[MAX_RELAX * MAX_RELAX];
    cfloat za[MAX_RELAX], zb[MAX_RELAX], q[MAX_RELAX];
    int ip[MAX_RELAX];
    for (int a = 0; a < r; a++) {
        double s = 0.5 - row_best[ig[a]];
        lam0[a] = 1.0 - sqrt(s > 0.0 ? s : 0.0);
        ip[a] = best[ig[a]];
        za[a] = pos_o[ig[a]];
        zb[a] = pos_p[ip[a]];
        cfloat h = head_o[ig[a]], g = head_p[ip[a]];
        q[a].re = h.re * g.re - h.im * g.im;
        q[a].im = h.re * g.im + h.im * g.re;
    }
    /* Compatibility of every two pairs times (1 - w) / (r - 1); w on the diagonal. */
    const double c = (1.0 - cfg->weight) / (r - 1);
    for (int a = 0; a < r; a++) {
        double row = 0.0;
        for (int b = 0; b < r; b++) {
            if (a == b) {
                rho[a * r + b] = cfg->weight;
                continue;
            }
            double dx = (double)za[a].re - za[b].re, dy = (double)za[a].im - za[b].im;
            double ex = dx * q[a].re - dy * q[a].im - ((double)zb[a].re - zb[b].re);
            double ey = dx * q[a].im + dy * q[a].re - ((double)zb[a].im - zb[b].im);
            double seg = 1.0 - (ex * ex + ey * ey) * p->inv_tol2[(size_t)ip[a] * n + ip[b]];
            double turn = c * ((double)q[a].re * q[b].re + (double)q[a].im * q[b].im) - c * (cfg->k - 1.0);
            rho[a * r + b] = (seg > 0.0 ? seg : 0.0) * (turn > 0.0 ? turn : 0.0);
            row += rho[a * r + b];
        }
        if (row / c > *support)
            *support = row / c;
    }
    memcpy(lam, lam0, sizeof(double) * r);
    for (int it = 0; it < cfg->iterations; it++) {
        for (int a = 0; a < r; a++) {
            double s = 0.0;
            for (int b = 0; b < r; b++)
                s += rho[a * r + b] * lam[b];
            next[a] = s;
        }
        memcpy(lam, next, sizeof(double) * r);
    }
    int averaged = cfg->wanted < r ? cfg->wanted : r;
    int order[MAX_RELAX];
    double efficiency[MAX_RELAX];
    for (int a = 0; a < r; a++) {
        order[a] = a;
        efficiency[a] = rint(lam[a] / lam0[a] * cfg->resolution);
    }
    /* The best efficiencies, ties by the larger initial similarity (consolidation.best_relaxed). */
    if (averaged < r)
        top_k(efficiency, lam0, order, r, averaged);
    for (int a = 0; a < averaged; a++)
        *total += lam[order[a]];
    return averaged;
}

static int read_pair(PyObject *o_form, PyObject *p_form, Form *o, Form *p)
{
    if (read_form(o_form, o, "template") < 0 || read_form(p_form, p, "probe") < 0)
        return -1;
    if (o->d != p->d || o->c != p->c) {
        PyErr_SetString(PyExc_ValueError, "the forms have different cylinders");
        return -1;
    }
    return 0;
}

/* Runs the ranking of o against p (both with at least one minutia) into rk, with its scratch and
 * ``offered`` (m) in one block, which the caller frees; NULL when out of memory. */
static char *ranked(const Form *o, const Form *p, int min_common, Ranking *rk, int **offered)
{
    const size_t m = (size_t)o->n, n = (size_t)p->n, ts = round_up(n, LANES);
    /* row (ts), colmax (ts), row_best (m), best (m), offered (m), cols (n + 3) */
    char *scratch = malloc(2 * ts * sizeof(float) + m * sizeof(double) + (2 * m + n + 3) * sizeof(int));
    if (!scratch) {
        PyErr_NoMemory();
        return NULL;
    }
    rk->row = (float *)scratch;
    rk->colmax = rk->row + ts;
    rk->row_best = (double *)(rk->colmax + ts);
    rk->best = (int *)(rk->row_best + m);
    *offered = rk->best + m;
    rk->cols = *offered + m;
    prefetch(p);
    prefetch(o);
    rank_pairs(o, p, min_common, rk);
    return scratch;
}

/*
 * similarity(template, probe, wanted, (n_relax, iterations, weight, k, resolution, min_common))
 *     -> (total, averaged, support)
 *
 * template, probe: packed forms (pack()). total: the sum of the relaxed similarities of the
 * ``averaged`` = min(wanted, relaxed pairs) pairs with the best relaxed-to-initial efficiency,
 * compared at ``resolution`` and ties taken by the larger initial similarity, as
 * consolidation.best_relaxed orders them (0 pairs when fewer than two could be relaxed); support:
 * the largest summed compatibility of one relaxed pair with the others. A pair counts only with
 * at least min_common valid cells in common and directions less than 90 degrees apart. The
 * score's formula from these stays in pairwise.py, beside the NumPy path's (whose constants tests
 * change).
 */
static PyObject *similarity(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *o_form, *p_form;
    Relaxation cfg;
    int min_common;
    if (!PyArg_ParseTuple(args, "SSi(iidddi)", &o_form, &p_form, &cfg.wanted, &cfg.n_relax, &cfg.iterations,
                          &cfg.weight, &cfg.k, &cfg.resolution, &min_common))
        return NULL;
    if (cfg.n_relax < 2 || cfg.n_relax > MAX_RELAX || cfg.iterations < 0 || cfg.wanted < 1) {
        PyErr_SetString(PyExc_ValueError, "similarity: bad sizes or parameters");
        return NULL;
    }
    Form o, p;
    if (read_pair(o_form, p_form, &o, &p) < 0)
        return NULL;
    double total = 0.0, support = 0.0;
    int averaged = 0;
    if (o.n >= 2 && p.n >= 2) {
        Ranking rk;
        int *offered;
        rk.t = NULL;
        char *scratch = ranked(&o, &p, min_common, &rk, &offered);
        if (!scratch)
            return NULL;
        averaged = relax(&o, &p, rk.best, rk.row_best, rk.colmax, offered, &cfg, &total, &support);
        free(scratch);
    }
    if (averaged == 0)
        support = 0.0;
    return Py_BuildValue("(did)", total, averaged, support);
}

/*
 * local_similarities(template, probe, min_common) -> bytes
 *
 * The (m, n) float32 matrix that similarity() ranks: t = a.b / (|a|^2 + |b|^2) of every pair that
 * passes the gate, -1 for the others (the pairs never computed). For the tests: it shows that the
 * gate skips exactly the pairs the NumPy path gives a negative t.
 */
static PyObject *local_similarities(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *o_form, *p_form;
    int min_common;
    if (!PyArg_ParseTuple(args, "SSi", &o_form, &p_form, &min_common))
        return NULL;
    Form o, p;
    if (read_pair(o_form, p_form, &o, &p) < 0)
        return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)((size_t)o.n * p.n * sizeof(float)));
    if (!out || o.n == 0 || p.n == 0)
        return out;
    Ranking rk;
    int *offered;
    rk.t = (float *)PyBytes_AS_STRING(out);
    char *scratch = ranked(&o, &p, min_common, &rk, &offered);
    if (!scratch) {
        Py_DECREF(out);
        return NULL;
    }
    free(scratch);
    return out;
}

/* use_simd(flag) -> bool: whether the vector code is used from now on (never where unsupported);
 * the portable path is otherwise only a fallback, so tests need this to exercise it. */
static PyObject *use_simd(PyObject *self, PyObject *flag)
{
    (void)self;
    const int want = PyObject_IsTrue(flag);
    if (want < 0)
        return NULL;
    rank_pairs = rank_portable;
#if HAVE_X86_SIMD
    if (want && simd_supported)
        rank_pairs = rank_simd;
#endif
    return PyBool_FromLong(rank_pairs != rank_portable);
}

static PyMethodDef methods[] = {
    {"pack", pack, METH_VARARGS, "One template's arrays packed for similarity()."},
    {"similarity", similarity, METH_VARARGS,
     "Relaxed pair sum, pairs averaged and support of one 1:1 comparison of two packed forms."},
    {"local_similarities", local_similarities, METH_VARARGS,
     "The gated local similarity of every pair of two packed forms (-1 where the gate fails)."},
    {"use_simd", use_simd, METH_O, "Use the AVX/FMA code when the CPU has it (True) or the portable code."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_consolidate", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__consolidate(void)
{
#if HAVE_X86_SIMD
    __builtin_cpu_init();
    simd_supported = __builtin_cpu_supports("avx") && __builtin_cpu_supports("fma") &&
                     __builtin_cpu_supports("popcnt");
    if (simd_supported)
        rank_pairs = rank_simd;
#endif
    return PyModule_Create(&module);
}
