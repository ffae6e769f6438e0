// MuJoCo's struct types and the entry points meow uses, as function-pointer types.
//
// The Environments module dlopen()s libmujoco at run time and resolves these
// symbols itself, so a machine without MuJoCo still runs every other
// environment and gets an error that names the Debian package to install.
// Only the type headers are included, never mujoco.h, so no MuJoCo function can
// be called without going through the loader. Nothing here links a library.
//
// The one piece of C below is the fatal-error guard, which Swift cannot express:
// setjmp/longjmp around mj_step.
#ifndef MEOW_CMUJOCO_SHIM_H
#define MEOW_CMUJOCO_SHIM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <mujoco/mjtnum.h>
#include <mujoco/mjmodel.h>
#include <mujoco/mjdata.h>

// The virtual file system is a 2 MB struct of fixed arrays (mjMAXVFS names of
// mjMAXVFSNAME bytes) that Swift would import as a nested tuple of two million
// elements; Swift sees it only as raw memory of this size, and the one field it
// writes through this offset.
enum {
    MeowMjVFSSize = sizeof(mjVFS),
    MeowMjVFSFileDataOffset = offsetof(mjVFS, filedata),
};

typedef int (*meow_mj_version_fn)(void);
typedef mjModel *(*meow_mj_loadXML_fn)(const char *filename, const void *vfs, char *error, int error_sz);
typedef void (*meow_mj_deleteModel_fn)(mjModel *m);
typedef mjData *(*meow_mj_makeData_fn)(const mjModel *m);
typedef mjData *(*meow_mj_copyData_fn)(mjData *dest, const mjModel *m, const mjData *src);
typedef void (*meow_mj_deleteData_fn)(mjData *d);
// mj_step, mj_forward, mj_resetData and mj_rnePostConstraint share this shape.
typedef void (*meow_mj_compute_fn)(const mjModel *m, mjData *d);
typedef int (*meow_mj_name2id_fn)(const mjModel *m, int type, const char *name);
typedef void (*meow_mj_defaultVFS_fn)(void *vfs);
typedef int (*meow_mj_makeEmptyFileVFS_fn)(void *vfs, const char *filename, int filesize);
typedef int (*meow_mj_findFileVFS_fn)(const void *vfs, const char *filename);
typedef void (*meow_mj_deleteVFS_fn)(void *vfs);
// The type of the mju_user_warning / mju_user_error hooks (global variables).
typedef void (*meow_mju_handler_fn)(const char *message);


// MARK: - Fatal errors during stepping
//
// MuJoCo 2.2.2 reports a fatal error (e.g. "Stack overflow" when a blown-up
// simulation makes more contacts than mjData has room for) through the
// mju_user_error hook; without a hook it prints "Press Enter to exit", waits on
// stdin and exits. The hook below jumps back to the guarded step instead, which
// returns 1 so that the caller can reset mjData (its stack pointer is left
// mid-allocation) and report the step as unstable. Outside a guarded step it
// prints the message and exits, as MuJoCo would, without waiting on stdin.
//
// These functions are used from one Swift file only, so that they share one copy
// of the per-thread statics in every build mode.

// Per-thread state, kept in function-local statics: Swift emits the functions a
// module uses, but not file-scope variable definitions.
static inline jmp_buf **meow_mj_error_landing(void) {
    static _Thread_local jmp_buf *landing;
    return &landing;
}

static inline char *meow_mj_error_text(void) {
    static _Thread_local char text[512];
    return text;
}

static void meow_mj_error_hook(const char *message) {
    jmp_buf *landing = *meow_mj_error_landing();
    if (landing != NULL) {
        snprintf(meow_mj_error_text(), 512, "%s", message);
        longjmp(*landing, 1);
    }
    fprintf(stderr, "MuJoCo fatal error: %s\n", message);
    exit(1);
}

// Points MuJoCo's mju_user_error hook (resolved with dlsym) at meow_mj_error_hook.
static inline void meow_mj_install_error_hook(meow_mju_handler_fn *hook) {
    *hook = meow_mj_error_hook;
}

// Calls step(m, d) `frames` times, stopping early when check(d) returns nonzero.
// Returns 0, or 1 after a MuJoCo fatal error, whose text meow_mj_error_message() then holds.
static inline int meow_mj_step_guarded(meow_mj_compute_fn step, const mjModel *m, mjData *d, int frames,
                                       int (*check)(mjData *)) {
    jmp_buf landing;
    jmp_buf **slot = meow_mj_error_landing();
    jmp_buf *outer = *slot;
    if (setjmp(landing) != 0) {
        *slot = outer;
        return 1;
    }
    *slot = &landing;
    for (int i = 0; i < frames; i++) {
        step(m, d);
        if (check != NULL && check(d) != 0) break;
    }
    *slot = outer;
    return 0;
}

// The text of the last fatal error caught on this thread.
static inline const char *meow_mj_error_message(void) {
    return meow_mj_error_text();
}

#endif
