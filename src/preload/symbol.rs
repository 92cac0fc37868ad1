//! Call sites as text, for reports: `symbol+0x… in module` as `dladdr` resolves them, or
//! `module+0x…` (an offset `addr2line -e module` takes) when there is no symbol. libssl's
//! sites are always given as `module+0x…`: its internal functions are not in its dynamic
//! symbol table, so the nearest exported name would mislead.

use super::history::By;
use std::ffi::CStr;

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `site`, a return address (or a callback's address), as text.
pub fn describe(site: usize, by: By) -> String {
    if site == 0 {
        return "an unknown place".to_string();
    }
    // SAFETY: dladdr only reads the loader's tables; info is written on success.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    if unsafe { libc::dladdr(site as *const libc::c_void, &mut info) } == 0 {
        return format!("{site:#x}");
    }
    let module = if info.dli_fname.is_null() {
        String::from("?")
    } else {
        // SAFETY: a NUL-terminated path owned by the loader.
        unsafe { CStr::from_ptr(info.dli_fname) }
            .to_string_lossy()
            .into_owned()
    };
    let module = if module.is_empty() {
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "the program".into())
    } else {
        module
    };
    let base = info.dli_fbase as usize;
    if by == By::App && !info.dli_sname.is_null() && !info.dli_saddr.is_null() && inside(site) {
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(info.dli_sname) }.to_string_lossy();
        return format!("{name}+{:#x} in {module}", site - info.dli_saddr as usize);
    }
    format!("{}+{:#x}", base_name(&module), site.wrapping_sub(base))
}

/// `ElfW(Sym)` on 64-bit targets.
#[repr(C)]
struct Sym {
    name: u32,
    info: u8,
    other: u8,
    shndx: u16,
    value: u64,
    size: u64,
}

/// Whether `site` lies inside the symbol dladdr names (not past its end: a static
/// function after it, which dladdr cannot see).
fn inside(site: usize) -> bool {
    const RTLD_DL_SYMENT: libc::c_int = 1;
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    let mut sym: *const Sym = std::ptr::null();
    // SAFETY: glibc's dladdr1 writes info and a pointer to the symbol's table entry.
    let ok = unsafe {
        dladdr1(
            site as *const libc::c_void,
            &mut info,
            (&mut sym as *mut *const Sym).cast(),
            RTLD_DL_SYMENT,
        )
    };
    if ok == 0 || sym.is_null() || info.dli_saddr.is_null() {
        return false;
    }
    // SAFETY: a symbol table entry of a loaded object.
    let size = unsafe { (*sym).size } as usize;
    site - (info.dli_saddr as usize) < size.max(1)
}

extern "C" {
    fn dladdr1(
        addr: *const libc::c_void,
        info: *mut libc::Dl_info,
        extra: *mut *mut libc::c_void,
        flags: libc::c_int,
    ) -> libc::c_int;
    /// glibc's `<execinfo.h>`.
    fn backtrace(buffer: *mut *mut libc::c_void, size: libc::c_int) -> libc::c_int;
}

/// The first return address on the stack outside ssl-session's own object: where the
/// faulty call came from (cold: only for reports).
#[cold]
pub fn caller_outside_us() -> usize {
    let mut frames = [std::ptr::null_mut(); 32];
    // SAFETY: the buffer has room for 32 frames.
    let n = unsafe { backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int) }.max(0);
    // SAFETY: dladdr on our own code, for our object's base.
    let mut me: libc::Dl_info = unsafe { std::mem::zeroed() };
    let here = caller_outside_us as *const () as *const libc::c_void;
    if unsafe { libc::dladdr(here, &mut me) } == 0 {
        return 0;
    }
    for &f in &frames[..n as usize] {
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        if unsafe { libc::dladdr(f, &mut info) } != 0 && info.dli_fbase != me.dli_fbase {
            return f as usize;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_libc_function_is_named() {
        let s = describe(libc::malloc as *const () as usize + 1, By::App);
        assert!(s.starts_with("malloc+0x1 in ") || s.contains("+0x"), "{s}");
        assert_eq!(describe(0, By::App), "an unknown place");
    }
}
