// The running process's own loaded image: the executable's GNU build ID, read from its program
// headers (no file I/O; what makes a cache entry belong to exactly this build of Warden), and
// the release of the mappings of code a waiting supervisor no longer runs.
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "launcher.h"

struct build_id_search {
    uint8_t *out;
    size_t cap;
    int length;
};

static int search_main_program(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct build_id_search *s = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        size_t left = ph->p_memsz;
        while (left >= sizeof(ElfW(Nhdr))) {
            const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)p;
            size_t name = ((size_t)note->n_namesz + 3) & ~(size_t)3;
            size_t desc = ((size_t)note->n_descsz + 3) & ~(size_t)3;
            size_t total = sizeof *note + name + desc;
            if (total > left) break;
            if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
                memcmp(p + sizeof *note, "GNU", 4) == 0 && note->n_descsz > 0 && note->n_descsz <= s->cap) {
                memcpy(s->out, p + sizeof *note + name, note->n_descsz);
                s->length = (int)note->n_descsz;
                return 1;
            }
            p += total;
            left -= total;
        }
    }
    return 1;  // the first object is the main program: stop there
}

int warden_build_id(uint8_t *out, size_t cap) {
    struct build_id_search s = { out, cap, 0 };
    dl_iterate_phdr(search_main_program, &s);
    return s.length;
}

// ---------------------------------------------------------------------------------------
// Releasing the supervisor's view of code it no longer runs.

static int release_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    long *released = data;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    if (strncmp(name, "linux-vdso", 10) == 0 || strncmp(name, "linux-gate", 10) == 0) return 0;
    uintptr_t relro_start = 0, relro_end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_GNU_RELRO) {
            relro_start = info->dlpi_addr + ph->p_vaddr;
            relro_end = relro_start + ph->p_memsz;
        }
        if (ph->p_type == PT_DYNAMIC) {
            // Text relocations: "read-only" pages hold relocated values; leave such objects be.
            const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
            for (; d->d_tag != DT_NULL; d++) {
                if (d->d_tag == DT_TEXTREL) return 0;
                if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)) return 0;
            }
        }
    }
    long page = 4096;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W)) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (relro_end > relro_start && start < relro_end && relro_start < end) continue;
        // Whole pages inside the segment only: never a page another segment shares.
        start = (start + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
        end &= ~((uintptr_t)page - 1);
        if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) == 0)
            *released += (long)(end - start);
    }
    return 0;
}

long warden_release_code_pages(void) {
    long released = 0;
    dl_iterate_phdr(release_object, &released);
    return released;
}
