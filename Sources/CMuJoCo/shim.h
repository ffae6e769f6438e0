// MuJoCo's struct types and the entry points meow uses, as function-pointer types.
//
// The Environments module dlopen()s libmujoco at run time and resolves these
// symbols itself, so a machine without MuJoCo still runs every other
// environment and gets an error that names the Debian package to install.
// Only the type headers are included, never mujoco.h, so no MuJoCo function can
// be called without going through the loader. Nothing here links a library.
#ifndef MEOW_CMUJOCO_SHIM_H
#define MEOW_CMUJOCO_SHIM_H

#include <stddef.h>
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

#endif
