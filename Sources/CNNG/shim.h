// Headers of Debian's libnng-dev (1.5.2). Debian ships no nng.pc, so this
// module is declared without pkgConfig and links "nng" directly.
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
