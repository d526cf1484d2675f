/*
 * The part of a 1:1 comparison that follows the four matrix products (see pairwise.py): choosing
 * the mutually best minutia pairs, relaxing them and averaging the best. In NumPy it is some forty
 * calls on arrays of tens of numbers, each paying about a microsecond of dispatch for nanoseconds of
 * work; here it is one call. The arithmetic is the same as pairwise.py's NumPy path (which stays as
 * the reference and the fallback), in double precision.
 *
 * Arrays come in through the buffer protocol (NumPy arrays, C-contiguous), so building this needs
 * only Python's headers, not NumPy's.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define MAX_RELAX 64

typedef struct { float re, im; } cfloat;

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

/*
 * score(dot, norm, common, facing, m, n, position_o, position_pk, heading_conj_o, heading_pk,
 *       inv_tol2_p, n_relax, iterations, weight, k, wanted, resolution) -> (total, averaged, support)
 *
 * total: the sum of the relaxed similarities of the ``averaged`` = min(wanted, relaxed pairs) pairs
 * with the best relaxed-to-initial efficiency, compared at ``resolution`` and ties taken by the larger
 * initial similarity, as consolidation.best_relaxed orders them (0 pairs when fewer than two could be
 * relaxed); support: the largest summed compatibility of one relaxed pair with the others. The score's formula from
 * these stays in pairwise.py, beside the NumPy path's.
 *
 * dot, norm, common, facing: (m, n) float32, the products of pairwise.similarity (template rows,
 * probe columns). position_o, heading_conj_o: (m,) complex64; position_pk, heading_pk: (n,)
 * complex64 scaled by sqrt(k); inv_tol2_p: (n, n) float32.
 */
static PyObject *score(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *o_dot, *o_norm, *o_common, *o_facing, *o_pos, *o_ppos, *o_head, *o_phead, *o_tol;
    int m, n, n_relax, iterations, wanted;
    double weight, k, resolution;
    if (!PyArg_ParseTuple(args, "OOOOiiOOOOOiiddid", &o_dot, &o_norm, &o_common, &o_facing, &m, &n, &o_pos,
                          &o_ppos, &o_head, &o_phead, &o_tol, &n_relax, &iterations, &weight, &k, &wanted,
                          &resolution))
        return NULL;
    if (m < 0 || n < 0 || n_relax < 2 || n_relax > MAX_RELAX || iterations < 0 || wanted < 1) {
        PyErr_SetString(PyExc_ValueError, "score: bad sizes or parameters");
        return NULL;
    }
    PyObject *objs[9] = {o_dot, o_norm, o_common, o_facing, o_pos, o_ppos, o_head, o_phead, o_tol};
    const Py_ssize_t items[9] = {(Py_ssize_t)m * n, (Py_ssize_t)m * n, (Py_ssize_t)m * n, (Py_ssize_t)m * n,
                                 m, n, m, n, (Py_ssize_t)n * n};
    const Py_ssize_t sizes[9] = {4, 4, 4, 4, 8, 8, 8, 8, 4};
    static const char *names[9] = {"dot", "norm", "common", "facing", "position_o", "position_pk",
                                   "heading_conj_o", "heading_pk", "inv_tol2_p"};
    Py_buffer views[9];
    int got = 0;
    for (; got < 9; got++)
        if (get_buffer(objs[got], &views[got], items[got], sizes[got], names[got]) < 0)
            break;
    if (got < 9) {
        for (int i = 0; i < got; i++)
            PyBuffer_Release(&views[i]);
        return NULL;
    }
    const float *dot = views[0].buf, *norm = views[1].buf, *common = views[2].buf, *facing = views[3].buf;
    const cfloat *pos_o = views[4].buf, *pos_p = views[5].buf, *head_o = views[6].buf, *head_p = views[7].buf;
    const float *inv_tol2 = views[8].buf;
    double total = 0.0, support = 0.0;
    int averaged = 0, failed = 0;
    double *t = NULL;
    int *best = NULL;

    if (m < 2 || n < 2)
        goto done;
    /* t (m x n), its column maxima (n), its row maxima (m); each row's best column (m), the offered rows (m). */
    t = malloc(sizeof(double) * ((size_t)m * n + n + m));
    best = malloc(sizeof(int) * 2 * (size_t)m);
    if (!t || !best) {
        PyErr_NoMemory();
        failed = 1;
        goto done;
    }
    double *colmax = t + (size_t)m * n, *row_best = colmax + n;
    int *offered = best + m;
    for (int j = 0; j < n; j++)
        colmax[j] = 0.0;
    /* t = a.b / (|a|^2 + |b|^2), its sign replaced by the gate's: negative where the pair may not count.
     * A negative t is never offered (a row offers its best only if no column beats it, and column maxima
     * start at 0), so its size does not matter and the division is skipped: -1 stands for all of them. */
    for (int i = 0; i < m; i++) {
        const size_t row = (size_t)i * n;
        int arg = 0;
        for (int j = 0; j < n; j++) {
            float gate = common[row + j] < facing[row + j] ? common[row + j] : facing[row + j];
            double v = signbit(gate) ? -1.0 : (double)(dot[row + j] / norm[row + j]);
            t[row + j] = v;
            if (v > t[row + arg])
                arg = j;
            if (v > colmax[j])
                colmax[j] = v;
        }
        best[i] = arg;
    }
    /* Each template minutia offers one pair: with its best probe minutia, if that choice is mutual. */
    int r = 0;
    for (int i = 0; i < m; i++) {
        row_best[i] = t[(size_t)i * n + best[i]];
        if (row_best[i] >= colmax[best[i]])
            offered[r++] = i;
    }
    if (r > n_relax) {
        top_k(row_best, NULL, offered, r, n_relax);
        r = n_relax;
    }
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
    if (r < 2)
        goto done;
    /* Compatibility of every two pairs times (1 - w) / (r - 1); w on the diagonal. */
    const double c = (1.0 - weight) / (r - 1);
    for (int a = 0; a < r; a++) {
        double row = 0.0;
        for (int b = 0; b < r; b++) {
            if (a == b) {
                rho[a * r + b] = weight;
                continue;
            }
            double dx = (double)za[a].re - za[b].re, dy = (double)za[a].im - za[b].im;
            double ex = dx * q[a].re - dy * q[a].im - ((double)zb[a].re - zb[b].re);
            double ey = dx * q[a].im + dy * q[a].re - ((double)zb[a].im - zb[b].im);
            double seg = 1.0 - (ex * ex + ey * ey) * inv_tol2[(size_t)ip[a] * n + ip[b]];
            double turn = c * ((double)q[a].re * q[b].re + (double)q[a].im * q[b].im) - c * (k - 1.0);
            rho[a * r + b] = (seg > 0.0 ? seg : 0.0) * (turn > 0.0 ? turn : 0.0);
            row += rho[a * r + b];
        }
        if (row / c > support)
            support = row / c;
    }
    memcpy(lam, lam0, sizeof(double) * r);
    for (int it = 0; it < iterations; it++) {
        for (int a = 0; a < r; a++) {
            double s = 0.0;
            for (int b = 0; b < r; b++)
                s += rho[a * r + b] * lam[b];
            next[a] = s;
        }
        memcpy(lam, next, sizeof(double) * r);
    }
    int np_ = wanted < r ? wanted : r;
    int order[MAX_RELAX];
    double efficiency[MAX_RELAX];
    for (int a = 0; a < r; a++) {
        order[a] = a;
        efficiency[a] = rint(lam[a] / lam0[a] * resolution);
    }
    /* The best efficiencies, ties by the larger initial similarity (consolidation.best_relaxed). */
    if (np_ < r)
        top_k(efficiency, lam0, order, r, np_);
    for (int a = 0; a < np_; a++)
        total += lam[order[a]];
    averaged = np_;

done:
    free(t);
    free(best);
    for (int i = 0; i < 9; i++)
        PyBuffer_Release(&views[i]);
    if (failed)
        return NULL;
    if (averaged == 0)
        support = 0.0;
    return Py_BuildValue("(did)", total, averaged, support);
}

static PyMethodDef methods[] = {
    {"score", score, METH_VARARGS, "Relaxed pair sum, pairs averaged and support of one 1:1 comparison from its four products."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_consolidate", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__consolidate(void)
{
    return PyModule_Create(&module);
}
