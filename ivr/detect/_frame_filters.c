/* The front end's two filters over whole frames at a time: the speech band (ivr.detect.band)
 * and the high-pass (ivr.detect.highpass).
 *
 * The speech band:
 *
 * The cascade of second-order sections (direct form II transposed, float32) is linear, so a
 * frame's output is the sum of two parts:
 *   - its zero-state response: the frame's 320 samples filtered from a zero state, which does
 *     not depend on any other frame, so LANES frames are filtered side by side in one vector;
 *   - its zero-input response: what the state carried in from the frames before would give
 *     with no input, ZIR (states x 320) times that state.
 * The state carried from frame to frame is then CARRY (states x states, the zero-input
 * transition over one frame) times the state in, plus the frame's zero-state final state, in
 * float64. Each frame's arithmetic is the same whatever the block it comes in and whatever its
 * lane (no fused multiply-add: built with -ffp-contract=off, and the vector and scalar clones
 * do the same IEEE operations), so the output does not depend on how the audio is cut into
 * blocks, and a serial recurrence's latency (about 4 ns a sample and section) is no longer
 * paid sample by sample.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#define FRAME 320          /* samples in a 20 ms frame at 16 kHz */
#define SECTIONS 6         /* second-order sections of ivr.detect.band.SECTIONS */
#define STATES (2 * SECTIONS)
#define LANES 8            /* frames filtered side by side */

typedef float lanes_t __attribute__((vector_size(4 * LANES)));

/* The zero-state responses of `count` (1..LANES) frames of int16 samples, written frame after
 * frame to `out` (count x FRAME), and the sections' final states to `final` (STATES x LANES). */
__attribute__((target_clones("avx2", "default")))
static void zero_state(const float *sos, const int16_t *frames, int count, float *out,
                       float *final)
{
    lanes_t z1[SECTIONS], z2[SECTIONS];
    float in[FRAME][LANES] __attribute__((aligned(32)));
    float y[FRAME][LANES] __attribute__((aligned(32)));
    for (int l = 0; l < LANES; l++)
        for (int t = 0; t < FRAME; t++)
            in[t][l] = l < count ? (float)frames[l * FRAME + t] : 0.0f;
    for (int s = 0; s < SECTIONS; s++) {
        z1[s] = (lanes_t){0};
        z2[s] = (lanes_t){0};
    }
    for (int t = 0; t < FRAME; t++) {
        lanes_t v;
        memcpy(&v, in[t], sizeof v);
        for (int s = 0; s < SECTIONS; s++) {
            const float *c = sos + 6 * s; /* b0 b1 b2 a0 a1 a2, a0 = 1 */
            lanes_t out_s = c[0] * v + z1[s];
            z1[s] = (c[1] * v - c[4] * out_s) + z2[s];
            z2[s] = c[2] * v - c[5] * out_s;
            v = out_s;
        }
        memcpy(y[t], &v, sizeof v);
    }
    for (int l = 0; l < count; l++)
        for (int t = 0; t < FRAME; t++)
            out[l * FRAME + t] = y[t][l];
    for (int s = 0; s < SECTIONS; s++) {
        memcpy(final + (2 * s) * LANES, &z1[s], sizeof z1[s]);
        memcpy(final + (2 * s + 1) * LANES, &z2[s], sizeof z2[s]);
    }
}

/* One frame: its zero-state response `y0` plus ZIR times the state `state` carried in, written
 * to `out`; returns the frame's sum of squares (int16 units squared). */
__attribute__((target_clones("avx2", "default")))
static double add_carried(const float *y0, const float *zir, const float *state, float *out)
{
    float part[8] = {0};
    for (int t0 = 0; t0 < FRAME; t0 += 8) {
        for (int r = 0; r < 8; r++) {
            const int t = t0 + r;
            float a = y0[t];
            for (int j = 0; j < STATES; j++)
                a += zir[j * FRAME + t] * state[j];
            out[t] = a;
            part[r] += a * a;
        }
    }
    double sum = 0.0;
    for (int r = 0; r < 8; r++)
        sum += part[r];
    return sum;
}

static int check(Py_buffer *b, Py_ssize_t size, const char *what)
{
    if (b->len != size) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, expected %zd", what, b->len, size);
        return 0;
    }
    return 1;
}

static PyObject *filter_frames(PyObject *self, PyObject *args)
{
    Py_buffer sos, zir, carry, state, frames, out, sums;
    if (!PyArg_ParseTuple(args, "y*y*y*w*y*w*w*", &sos, &zir, &carry, &state, &frames, &out,
                          &sums))
        return NULL;
    const Py_ssize_t n = frames.len / (Py_ssize_t)(FRAME * sizeof(int16_t));
    PyObject *result = NULL;
    if (!check(&sos, SECTIONS * 6 * sizeof(float), "sos (6, 6) float32")
        || !check(&zir, STATES * FRAME * sizeof(float), "zir (12, 320) float32")
        || !check(&carry, STATES * STATES * sizeof(double), "carry (12, 12) float64")
        || !check(&state, STATES * sizeof(double), "state (12,) float64")
        || !check(&frames, n * FRAME * sizeof(int16_t), "frames (n, 320) int16")
        || !check(&out, n * FRAME * sizeof(float), "out (n, 320) float32")
        || !check(&sums, n * sizeof(double), "sums (n,) float64"))
        goto done;
    const float *c = sos.buf, *z = zir.buf;
    const double *p = carry.buf;
    double *s = state.buf;
    const int16_t *x = frames.buf;
    float *o = out.buf;
    double *squares = sums.buf;
    Py_BEGIN_ALLOW_THREADS
    float y0[LANES * FRAME] __attribute__((aligned(32)));
    float final[STATES * LANES];
    for (Py_ssize_t k0 = 0; k0 < n; k0 += LANES) {
        const int count = (int)(n - k0 < LANES ? n - k0 : LANES);
        zero_state(c, x + k0 * FRAME, count, y0, final);
        for (int l = 0; l < count; l++) {
            float s32[STATES];
            double next[STATES];
            for (int j = 0; j < STATES; j++)
                s32[j] = (float)s[j];
            squares[k0 + l] = add_carried(y0 + l * FRAME, z, s32, o + (k0 + l) * FRAME);
            for (int i = 0; i < STATES; i++) {
                double a = final[i * LANES + l];
                for (int j = 0; j < STATES; j++)
                    a += p[i * STATES + j] * s[j];
                next[i] = a;
            }
            memcpy(s, next, sizeof next);
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&sos);
    PyBuffer_Release(&zir);
    PyBuffer_Release(&carry);
    PyBuffer_Release(&state);
    PyBuffer_Release(&frames);
    PyBuffer_Release(&out);
    PyBuffer_Release(&sums);
    return result;
}

/* The front end's high-pass (ivr.detect.highpass): each HIGHPASS block of every frame has its
 * mean taken out. A block's sum of int16 samples is exact in float32 (80 x 32768 < 2^24), so
 * this computes numpy's bits: the mean is the sum times float32(1 / 80), the filtered samples
 * the sample minus the mean in float32, and the int16 copy those rounded half to even (rintf,
 * as numpy.rint) and clipped to the int16 range. */
#define HIGHPASS 80

__attribute__((target_clones("avx2", "default")))
static void remove_means(const int16_t *x, Py_ssize_t blocks, float *filtered, int16_t *pcm)
{
    const float scale = 1.0f / HIGHPASS;
    for (Py_ssize_t b = 0; b < blocks; b++) {
        const int16_t *xb = x + b * HIGHPASS;
        float *fb = filtered + b * HIGHPASS;
        int16_t *pb = pcm + b * HIGHPASS;
        int32_t sum = 0;
        for (int i = 0; i < HIGHPASS; i++)
            sum += xb[i];
        const float mean = (float)sum * scale;
        for (int i = 0; i < HIGHPASS; i++) {
            float v = (float)xb[i] - mean;
            fb[i] = v;
            float r = rintf(v);
            r = r < -32768.0f ? -32768.0f : (r > 32767.0f ? 32767.0f : r);
            pb[i] = (int16_t)r;
        }
    }
}

static PyObject *high_pass(PyObject *self, PyObject *args)
{
    Py_buffer frames, filtered, pcm;
    if (!PyArg_ParseTuple(args, "y*w*w*", &frames, &filtered, &pcm))
        return NULL;
    const Py_ssize_t n = frames.len / (Py_ssize_t)(FRAME * sizeof(int16_t));
    PyObject *result = NULL;
    if (!check(&frames, n * FRAME * sizeof(int16_t), "frames (n, 320) int16")
        || !check(&filtered, n * FRAME * sizeof(float), "filtered (n, 320) float32")
        || !check(&pcm, n * FRAME * sizeof(int16_t), "pcm (n, 320) int16"))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    remove_means(frames.buf, n * (FRAME / HIGHPASS), filtered.buf, pcm.buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&frames);
    PyBuffer_Release(&filtered);
    PyBuffer_Release(&pcm);
    return result;
}

static PyMethodDef methods[] = {
    {"high_pass", high_pass, METH_VARARGS,
     "high_pass(frames, filtered, pcm): the (n, 320) int16 frames with each 80-sample block's "
     "mean removed, into filtered (n, 320) float32 and pcm (n, 320) int16 (rounded, clipped)."},
    {"filter_frames", filter_frames, METH_VARARGS,
     "filter_frames(sos, zir, carry, state, frames, out, sums): the (n, 320) int16 frames "
     "band-passed into out (n, 320) float32, each frame's sum of squares into sums (n,) "
     "float64; state (12,) float64 carried in and updated in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_frame_filters",
    "The front end's filters over whole frames: the speech band and the high-pass.", -1, methods,
};

PyMODINIT_FUNC PyInit__frame_filters(void)
{
    return PyModule_Create(&module);
}
