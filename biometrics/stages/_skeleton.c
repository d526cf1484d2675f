/*
 * Thinning and ridge tracing, the two skeleton steps that NumPy can only do as many passes over
 * whole arrays (skeleton.py: a convolution and a table lookup per Zhang-Suen subiteration, some
 * thirty per image; tracing.py: one round of vector operations per step of every tracer). Here each
 * is one call that visits only the pixels still in play. The results are identical to the NumPy
 * code, which stays as the reference and the fallback where this could not be built.
 *
 * Arrays come in through the buffer protocol (NumPy arrays, C-contiguous), so building this needs
 * only Python's headers, not NumPy's.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t items, Py_ssize_t itemsize, int writable,
                      const char *what)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->len != items * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd bytes, got %zd", what, items * itemsize, view->len);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static int get_buffers(PyObject **objs, Py_buffer *views, const Py_ssize_t *items, const Py_ssize_t *sizes,
                       const int *writable, const char **names, int count)
{
    for (int i = 0; i < count; i++) {
        if (get_buffer(objs[i], &views[i], items[i], sizes[i], writable[i], names[i]) < 0) {
            for (int j = 0; j < i; j++)
                PyBuffer_Release(&views[j]);
            return -1;
        }
    }
    return 0;
}

/* Working memory kept between calls: a fresh allocation of this size is fresh pages, and first
 * touches of fresh pages cost more than the thinning (0.18 ms of 1.5 ms on an empty image). The GIL
 * is held throughout a call, so no two calls share it at once. */
static void *scratch;
static size_t scratch_size;

static void *get_scratch(size_t bytes)
{
    if (bytes > scratch_size) {
        void *grown = realloc(scratch, bytes);
        if (!grown)
            return NULL;
        scratch = grown;
        scratch_size = bytes;
    }
    return scratch;
}

/* The 8-neighbour code of padded pixel i, bit k for skeleton.py's _OFFSETS[k] (clockwise from north). */
static inline int code_at(const uint8_t *p, Py_ssize_t i, Py_ssize_t w)
{
    return p[i - w] | p[i - w + 1] << 1 | p[i + 1] << 2 | p[i + w + 1] << 3 | p[i + w] << 4 | p[i + w - 1] << 5 |
           p[i - 1] << 6 | p[i - w - 1] << 7;
}

/* Deletes, all at once, the pixels of alive[0..n) whose code ``table`` marks (and whose parity of
 * y + x is ``parity``, unless it is -1); returns how many went and compacts ``alive``.
 *
 * A pixel's verdict depends only on its code, so a pixel whose neighbours have not changed since
 * this table last spared it is spared again: ``dirty`` (bit ``bit`` per pixel, when ``bit`` >= 0)
 * says which pixels lost a neighbour since, and only those are looked at. */
static Py_ssize_t delete_pass(uint8_t *p, uint8_t *dirty, int32_t *alive, Py_ssize_t *n, int32_t *doomed, Py_ssize_t w,
                              const uint8_t *table, int parity, int bit)
{
    const uint8_t mark = bit >= 0 ? (uint8_t)(1u << bit) : 0;
    Py_ssize_t gone = 0;
    /* Branch-free: which pixels go is data the branch predictor cannot learn. */
    for (Py_ssize_t a = 0; a < *n; a++) {
        const Py_ssize_t i = alive[a];
        int look = 1;
        if (mark) {
            look = (dirty[i] & mark) != 0;
            dirty[i] &= (uint8_t)~mark;
        }
        if (parity >= 0)
            look &= (int)((i / w + i % w) & 1) == parity;
        doomed[gone] = (int32_t)i;
        gone += look & table[code_at(p, i, w)];
    }
    if (gone == 0)
        return 0;
    const Py_ssize_t around[8] = {-w, -w + 1, 1, w + 1, w, w - 1, -1, -w - 1};
    for (Py_ssize_t d = 0; d < gone; d++) {
        p[doomed[d]] = 0;
        for (int k = 0; k < 8; k++)
            dirty[doomed[d] + around[k]] = 0xff;
    }
    Py_ssize_t kept = 0;
    for (Py_ssize_t a = 0; a < *n; a++) {
        alive[kept] = alive[a];
        kept += p[alive[a]];
    }
    *n = kept;
    return gone;
}

/*
 * thin(image, height, width, first, second, staircase) -> None
 *
 * image: (height, width) uint8 of 0/1, thinned in place as skeleton._thin_numpy does: Zhang-Suen
 * subiterations with the tables ``first`` and ``second`` (256 uint8 each) until neither deletes a
 * pixel, then the ``staircase`` table on pixels with y + x even, then odd.
 */
static PyObject *thin(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[4];
    Py_ssize_t h, w;
    if (!PyArg_ParseTuple(args, "OnnOOO", &objs[0], &h, &w, &objs[1], &objs[2], &objs[3]))
        return NULL;
    if (h < 0 || w < 0) {
        PyErr_SetString(PyExc_ValueError, "thin: negative size");
        return NULL;
    }
    const Py_ssize_t items[4] = {h * w, 256, 256, 256}, sizes[4] = {1, 1, 1, 1};
    const int writable[4] = {1, 0, 0, 0};
    const char *names[4] = {"image", "first", "second", "staircase"};
    Py_buffer views[4];
    if (get_buffers(objs, views, items, sizes, writable, names, 4) < 0)
        return NULL;
    uint8_t *image = views[0].buf;
    const uint8_t *first = views[1].buf, *second = views[2].buf, *staircase = views[3].buf;
    /* A zero frame round the image stands for the constant border of the NumPy code's convolution. */
    const Py_ssize_t pw = w + 2, size = (h + 2) * pw;
    /* Pixel indices fit 32 bits for any image a scanner makes; the size check keeps it so. */
    if (size > INT32_MAX / 2) {
        for (int i = 0; i < 4; i++)
            PyBuffer_Release(&views[i]);
        PyErr_SetString(PyExc_ValueError, "thin: image too large");
        return NULL;
    }
    /* alive and doomed hold at most every pixel; p and dirty are the padded image and its flags. */
    int32_t *alive = get_scratch(2 * sizeof(int32_t) * (size_t)(h * w + 1) + 2 * (size_t)size + 8);
    if (!alive) {
        for (int i = 0; i < 4; i++)
            PyBuffer_Release(&views[i]);
        return PyErr_NoMemory();
    }
    int32_t *doomed = alive + h * w + 1;
    uint8_t *p = (uint8_t *)(doomed + h * w + 1), *dirty = p + size;
    /* Whole-image byte loops cost several ns a pixel here; memcpy, memset and a scan that skips
     * eight background pixels at a time do not. */
    memset(p, 0, (size_t)size);
    memset(dirty, 0xff, (size_t)size);
    for (Py_ssize_t y = 0; y < h; y++)
        memcpy(p + (y + 1) * pw + 1, image + y * w, (size_t)w);
    Py_ssize_t n = 0, i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        memcpy(&word, p + i, 8);
        if (!word)
            continue;
        for (int k = 0; k < 8; k++)
            if (p[i + k])
                alive[n++] = (int32_t)(i + k);
    }
    for (; i < size; i++)
        if (p[i])
            alive[n++] = (int32_t)i;
    for (;;) {
        Py_ssize_t gone = delete_pass(p, dirty, alive, &n, doomed, pw, first, -1, 0);
        gone += delete_pass(p, dirty, alive, &n, doomed, pw, second, -1, 1);
        if (gone == 0)
            break;
    }
    /* In the padded frame y + x gains 2, so the parity is the image's. */
    delete_pass(p, dirty, alive, &n, doomed, pw, staircase, 0, -1);
    delete_pass(p, dirty, alive, &n, doomed, pw, staircase, 1, -1);
    for (Py_ssize_t y = 0; y < h; y++)
        memcpy(image + y * w, p + (y + 1) * pw + 1, (size_t)w);
    for (int i = 0; i < 4; i++)
        PyBuffer_Release(&views[i]);
    Py_RETURN_NONE;
}

/*
 * trace(skeleton, ids, offsets, allowed, far, start, first, owner, blocked, max_steps, sample_at,
 *       hit, length, sample) -> None
 *
 * Walks every tracer of tracing.trace_branches one after the other, with the same rules as its
 * vectorised loop (tracers never interact, so the order does not matter):
 * skeleton (size,) uint8 and ids (size,) int32 over the padded image; offsets (8,) int64 flat steps;
 * allowed (8, 9, 8) uint8 and far (8, 8) int32 the move tables; per tracer start (n,) int64, first
 * (n,) int32 move, owner (n,) int32 and blocked (n, 8) int64 (-1 = unused). Writes hit, length
 * (n,) int32 and sample (n,) int64.
 */
static PyObject *trace(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[12];
    Py_ssize_t size, n;
    int max_steps, sample_at, open_hit, dead_end;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOnniiiiOOO", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4], &objs[5],
                          &objs[6], &objs[7], &objs[8], &size, &n, &max_steps, &sample_at, &open_hit, &dead_end,
                          &objs[9], &objs[10], &objs[11]))
        return NULL;
    if (size < 0 || n < 0 || max_steps < 0) {
        PyErr_SetString(PyExc_ValueError, "trace: negative size");
        return NULL;
    }
    const Py_ssize_t items[12] = {size, size, 8, 8 * 9 * 8, 64, n, n, n, 8 * n, n, n, n};
    const Py_ssize_t sizes[12] = {1, 4, 8, 1, 4, 8, 4, 4, 8, 4, 4, 8};
    const int writable[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
    const char *names[12] = {"skeleton", "ids", "offsets", "allowed", "far", "start", "first", "owner",
                             "blocked", "hit", "length", "sample"};
    Py_buffer views[12];
    if (get_buffers(objs, views, items, sizes, writable, names, 12) < 0)
        return NULL;
    const uint8_t *sk = views[0].buf, *allowed = views[3].buf;
    const int32_t *ids = views[1].buf, *far = views[4].buf, *first = views[6].buf, *owner = views[7].buf;
    const int64_t *offsets = views[2].buf, *start = views[5].buf, *blocked = views[8].buf;
    int32_t *hit = views[9].buf, *length = views[10].buf;
    int64_t *sample = views[11].buf;
    /* Displacements of at most two pixels each way: only there can a step enter a blocked pixel. */
    int64_t close[25];
    for (int k = 0; k < 25; k++)
        close[k] = (int64_t)(k / 5 - 2) * (offsets[4] /* one row down */) + (k % 5 - 2);
    int bad = 0;
    for (Py_ssize_t t = 0; t < n && !bad; t++) {
        const int64_t origin = start[t];
        int move = first[t], previous = 8;
        if (move < 0 || move > 7) {
            bad = 1;
            break;
        }
        int64_t here = origin + offsets[move];
        hit[t] = open_hit;
        length[t] = max_steps;
        sample[t] = here;
        for (int step = 1; step <= max_steps; step++) {
            if (here < 0 || here >= size) {
                bad = 1;
                break;
            }
            if (step == sample_at)
                sample[t] = here;
            const int32_t met = ids[here];
            const int stop = met >= 0 && met != owner[t];
            const int64_t d = here - origin;
            int near = 0;
            for (int k = 0; k < 25 && !near; k++)
                near = d == close[k];
            int choice = 0, best = -1;
            for (int k = 0; k < 8; k++) {
                const int64_t ahead = here + offsets[k];
                if (ahead < 0 || ahead >= size || !sk[ahead] || !allowed[(move * 9 + previous) * 8 + k])
                    continue;
                if (near) {
                    int blocked_here = 0;
                    for (int b = 0; b < 8; b++)
                        blocked_here |= blocked[t * 8 + b] == ahead;
                    if (blocked_here)
                        continue;
                }
                if (far[move * 8 + k] > best) {
                    best = far[move * 8 + k];
                    choice = k;
                }
            }
            if (stop || best < 0) {
                hit[t] = stop ? met : dead_end;
                length[t] = step;
                if (step < sample_at)
                    sample[t] = here;
                break;
            }
            here += offsets[choice];
            previous = move;
            move = choice;
        }
    }
    for (int i = 0; i < 12; i++)
        PyBuffer_Release(&views[i]);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "trace: a tracer left the image or started with no move");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"thin", thin, METH_VARARGS, "Zhang-Suen thinning and staircase removal of a 0/1 uint8 image, in place."},
    {"trace", trace, METH_VARARGS, "Walk every skeleton tracer; writes hit, length and sample."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_skeleton", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__skeleton(void)
{
    return PyModule_Create(&module);
}
