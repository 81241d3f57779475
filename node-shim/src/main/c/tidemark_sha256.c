/*
 * SHA-256 of a Java byte array through OpenSSL's libcrypto, for io.tidemark.shim.storage.NativeSha256.
 *
 * Why a JNI library: a JVM started for one WAL segment (archive-push) runs only C1, which has no
 * SHA-256 intrinsic, and binding libcrypto through the foreign function API costs such a JVM
 * about 50 ms of CPU (docs/startup.md). A JNI call costs nothing to bind. libcrypto is opened
 * with dlopen at the first call, so this library links against nothing but libc and builds
 * without OpenSSL's headers.
 */
#include <dlfcn.h>
#include <jni.h>
#include <stddef.h>

typedef unsigned char *(*sha256_fn)(const unsigned char *data, size_t len, unsigned char *md);

static sha256_fn resolve(void) {
    static sha256_fn fn = NULL;
    static int tried = 0;
    if (!tried) {
        const char *names[] = {"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && fn == NULL; i++) {
            void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
            if (lib != NULL) {
                fn = (sha256_fn) dlsym(lib, "SHA256");
            }
        }
        tried = 1; /* a benign race: two threads may both look, and find the same function */
    }
    return fn;
}

/* Returns JNI_FALSE when libcrypto or its SHA256 is missing: the caller hashes in Java then. */
JNIEXPORT jboolean JNICALL Java_io_tidemark_shim_storage_NativeSha256_available(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
    return resolve() != NULL ? JNI_TRUE : JNI_FALSE;
}

/* SHA-256 of data[0..len) into out[0..32); JNI_FALSE when it could not be computed. */
JNIEXPORT jboolean JNICALL Java_io_tidemark_shim_storage_NativeSha256_digest0(JNIEnv *env, jclass cls,
                                                                              jbyteArray data, jint len,
                                                                              jbyteArray out) {
    (void) cls;
    sha256_fn fn = resolve();
    if (fn == NULL || len < 0 || (*env)->GetArrayLength(env, data) < len || (*env)->GetArrayLength(env, out) < 32) {
        return JNI_FALSE;
    }
    unsigned char md[32];
    /* Critical access: no copy of up to 16 MB; nothing here calls back into the JVM. */
    void *bytes = (*env)->GetPrimitiveArrayCritical(env, data, NULL);
    if (bytes == NULL) {
        return JNI_FALSE;
    }
    unsigned char *r = fn((const unsigned char *) bytes, (size_t) len, md);
    (*env)->ReleasePrimitiveArrayCritical(env, data, bytes, JNI_ABORT);
    if (r == NULL) {
        return JNI_FALSE;
    }
    (*env)->SetByteArrayRegion(env, out, 0, 32, (const jbyte *) md);
    return JNI_TRUE;
}
