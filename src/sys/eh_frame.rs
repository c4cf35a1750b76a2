//! Unwinding in a prelinked executable (see `prelink`). The unwinder finds
//! a frame's description through dl_iterate_phdr, which adds the load
//! bias to each PT_LOAD's address; in a prelinked copy those addresses
//! already include it, so no segment matches and a panic could not
//! unwind. Registering the copy's `.eh_frame` directly lets the unwinder
//! find it first, without those addresses.

extern "C" {
    /// libgcc's: adds the `.eh_frame` section starting at `begin` to the
    /// objects the unwinder searches.
    fn __register_frame(begin: *const u8);
}

/// `.eh_frame_hdr`'s pointer to `.eh_frame`: 4 bytes, relative to itself.
const DW_EH_PE_PCREL_SDATA4: u8 = 0x1b;

/// Registers this executable's `.eh_frame` when it runs prelinked; does
/// nothing otherwise.
pub fn register_if_prelinked() {
    // SAFETY: the program headers the kernel mapped for this executable,
    // AT_PHNUM of them at AT_PHDR, and the `.eh_frame_hdr` they locate.
    unsafe {
        let headers = libc::getauxval(libc::AT_PHDR) as *const libc::Elf64_Phdr;
        let count = libc::getauxval(libc::AT_PHNUM) as usize;
        if headers.is_null() || count == 0 {
            return;
        }
        let headers = std::slice::from_raw_parts(headers, count);
        let find = |kind| headers.iter().find(|h| h.p_type == kind);
        let (Some(own), Some(first_load), Some(hdr)) = (
            find(libc::PT_PHDR),
            find(libc::PT_LOAD),
            find(libc::PT_GNU_EH_FRAME),
        ) else {
            return;
        };
        // PT_PHDR keeps its linked address: the difference is the bias.
        let bias = (headers.as_ptr() as u64).wrapping_sub(own.p_vaddr);
        let prelinked = bias != 0 && first_load.p_vaddr == bias;
        if !prelinked {
            return;
        }
        let hdr = (bias + hdr.p_vaddr) as *const u8;
        if *hdr != 1 || *hdr.add(1) != DW_EH_PE_PCREL_SDATA4 {
            return;
        }
        let field = hdr.add(4);
        let offset = (field as *const i32).read_unaligned();
        __register_frame(field.offset(offset as isize));
    }
}
