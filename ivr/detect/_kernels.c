/* The front end's loops over whole blocks of frames (ivr.detect.compiled): the speech band
 * (ivr.detect.band), the high-pass (ivr.detect.highpass) and webrtcvad's decisions
 * (ivr.detect.voice_activity).
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
#include <dlfcn.h>
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
 * as numpy.rint) and clipped to the int16 range. In the same pass, per frame: whether it is
 * digital silence (all zeros), the filtered frame's sum of squares (float64), its 8 kHz narrow
 * band (pairs averaged in float32, as ivr.detect.narrowband) and that band's sum of squares. */
#define HIGHPASS 80
#define NARROW (FRAME / 2)

__attribute__((target_clones("avx2", "default")))
static void high_pass_frame(const int16_t *x, float *filtered, int16_t *pcm, float *narrow,
                            double *wide_sum, double *narrow_sum, uint8_t *silent)
{
    const float scale = 1.0f / HIGHPASS;
    int nonzero = 0;
    for (int b = 0; b < FRAME; b += HIGHPASS) {
        int32_t sum = 0;
        for (int i = 0; i < HIGHPASS; i++) {
            sum += x[b + i];
            nonzero |= x[b + i];
        }
        const float mean = (float)sum * scale;
        for (int i = 0; i < HIGHPASS; i++) {
            const float v = (float)x[b + i] - mean;
            filtered[b + i] = v;
            float r = rintf(v);
            r = r < -32768.0f ? -32768.0f : (r > 32767.0f ? 32767.0f : r);
            pcm[b + i] = (int16_t)r;
        }
    }
    double wide[4] = {0}, low[4] = {0};
    for (int t = 0; t < FRAME; t += 4)
        for (int r = 0; r < 4; r++)
            wide[r] += (double)filtered[t + r] * filtered[t + r];
    for (int t = 0; t < NARROW; t++)
        narrow[t] = (filtered[2 * t] + filtered[2 * t + 1]) * 0.5f;
    for (int t = 0; t < NARROW; t += 4)
        for (int r = 0; r < 4; r++)
            low[r] += (double)narrow[t + r] * narrow[t + r];
    *wide_sum = (wide[0] + wide[1]) + (wide[2] + wide[3]);
    *narrow_sum = (low[0] + low[1]) + (low[2] + low[3]);
    *silent = nonzero == 0;
}

static PyObject *high_pass(PyObject *self, PyObject *args)
{
    Py_buffer frames, filtered, pcm, narrow, wide_sums, narrow_sums, silent;
    if (!PyArg_ParseTuple(args, "y*w*w*w*w*w*w*", &frames, &filtered, &pcm, &narrow, &wide_sums,
                          &narrow_sums, &silent))
        return NULL;
    const Py_ssize_t n = frames.len / (Py_ssize_t)(FRAME * sizeof(int16_t));
    PyObject *result = NULL;
    if (!check(&frames, n * FRAME * sizeof(int16_t), "frames (n, 320) int16")
        || !check(&filtered, n * FRAME * sizeof(float), "filtered (n, 320) float32")
        || !check(&pcm, n * FRAME * sizeof(int16_t), "pcm (n, 320) int16")
        || !check(&narrow, n * NARROW * sizeof(float), "narrow (n, 160) float32")
        || !check(&wide_sums, n * sizeof(double), "wide_sums (n,) float64")
        || !check(&narrow_sums, n * sizeof(double), "narrow_sums (n,) float64")
        || !check(&silent, n, "silent (n,) bool"))
        goto done;
    const int16_t *x = frames.buf;
    float *f = filtered.buf, *low = narrow.buf;
    int16_t *p = pcm.buf;
    double *ws = wide_sums.buf, *ns = narrow_sums.buf;
    uint8_t *quiet = silent.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++)
        high_pass_frame(x + k * FRAME, f + k * FRAME, p + k * FRAME, low + k * NARROW, ws + k,
                        ns + k, quiet + k);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&frames);
    PyBuffer_Release(&filtered);
    PyBuffer_Release(&pcm);
    PyBuffer_Release(&narrow);
    PyBuffer_Release(&wide_sums);
    PyBuffer_Release(&narrow_sums);
    PyBuffer_Release(&silent);
    return result;
}

/* webrtcvad's decisions: the C function webrtcvad's own `_webrtcvad.process` calls,
 * WebRtcVad_Process, found in the loaded _webrtcvad module (`bind_webrtcvad`) and called for
 * each frame of a block here, on the instance a webrtcvad.Vad holds (its "WebRtcVadPtr"
 * capsule). The same function on the same instance with the same frames, so the same
 * decisions, without a Python call and a buffer object per frame. */
typedef int (*vad_process_t)(void *handle, int rate, const int16_t *frame, size_t length);
static vad_process_t vad_process = NULL;

static PyObject *bind_webrtcvad(PyObject *self, PyObject *args)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    void *library = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    void *found = library != NULL ? dlsym(library, "WebRtcVad_Process") : NULL;
    if (found != NULL)
        vad_process = (vad_process_t)found;
    return PyBool_FromLong(found != NULL);
}

static PyObject *webrtcvad_flags(PyObject *self, PyObject *args)
{
    PyObject *capsule;
    Py_buffer frames, flags;
    if (!PyArg_ParseTuple(args, "Oy*w*", &capsule, &frames, &flags))
        return NULL;
    const Py_ssize_t n = frames.len / (Py_ssize_t)(FRAME * sizeof(int16_t));
    PyObject *result = NULL;
    if (!PyCapsule_IsValid(capsule, "WebRtcVadPtr")) {
        PyErr_SetString(PyExc_TypeError, "expected a webrtcvad.Vad's WebRtcVadPtr capsule");
        goto done;
    }
    void *handle = PyCapsule_GetPointer(capsule, "WebRtcVadPtr");
    if (vad_process == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "webrtcvad is not bound (bind_webrtcvad)");
        goto done;
    }
    if (!check(&frames, n * FRAME * sizeof(int16_t), "frames (n, 320) int16")
        || !check(&flags, n, "flags (n,) bool"))
        goto done;
    const int16_t *x = frames.buf;
    uint8_t *out = flags.buf;
    Py_ssize_t failed = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) {
        const int decision = vad_process(handle, 16000, x + k * FRAME, FRAME);
        if (decision < 0) {
            failed = k;
            break;
        }
        out[k] = (uint8_t)decision;
    }
    Py_END_ALLOW_THREADS
    if (failed >= 0) {
        PyErr_Format(PyExc_RuntimeError, "webrtcvad failed on frame %zd of the block", failed);
        goto done;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&frames);
    PyBuffer_Release(&flags);
    return result;
}

static PyMethodDef methods[] = {
    {"bind_webrtcvad", bind_webrtcvad, METH_VARARGS,
     "bind_webrtcvad(path): find WebRtcVad_Process in the loaded _webrtcvad module at path; "
     "whether it was found."},
    {"webrtcvad_flags", webrtcvad_flags, METH_VARARGS,
     "webrtcvad_flags(capsule, frames, flags): webrtcvad's decision on each (n, 320) int16 "
     "frame at 16 kHz, on the Vad's instance (its _vad capsule), into flags (n,) bool."},
    {"high_pass", high_pass, METH_VARARGS,
     "high_pass(frames, filtered, pcm, narrow, wide_sums, narrow_sums, silent): the (n, 320) "
     "int16 frames with each 80-sample block's mean removed, into filtered (n, 320) float32 "
     "and pcm (n, 320) int16 (rounded, clipped); per frame its 8 kHz band into narrow "
     "(n, 160) float32, the sums of squares of both (n,) float64, and whether it was all "
     "zeros into silent (n,) bool."},
    {"filter_frames", filter_frames, METH_VARARGS,
     "filter_frames(sos, zir, carry, state, frames, out, sums): the (n, 320) int16 frames "
     "band-passed into out (n, 320) float32, each frame's sum of squares into sums (n,) "
     "float64; state (12,) float64 carried in and updated in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "The front end's loops over whole blocks of frames (ivr.detect.compiled).", -1, methods,
};

/* The sizes built in, for the Python side to check against its own constants. */
PyMODINIT_FUNC PyInit__kernels(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "FRAME", FRAME) < 0
        || PyModule_AddIntConstant(m, "SECTIONS", SECTIONS) < 0
        || PyModule_AddIntConstant(m, "HIGHPASS", HIGHPASS) < 0
        || PyModule_AddIntConstant(m, "NARROW", NARROW) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
