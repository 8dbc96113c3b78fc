// The running executable's GNU build ID, read from its own program headers (no file I/O):
// what makes a compiled-plan cache entry belong to exactly this build of Warden.
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <string.h>

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
