//! `reward build`: a spec compiled ahead of time into a shared library with a C API.
//!
//! The object file holds the same code the JIT produces (position-independent), the spec's
//! metadata (schema, terms, constants, regexes, failure sites) and the exported C functions,
//! which are thin wrappers that pass the spec's table to the runtime's C API. It is linked with
//! the runtime's static library, exporting only the `reward_*` symbols.

use std::path::{Path, PathBuf};
use std::process::Command;

use cranelift_codegen::ir::{types, AbiParam, InstBuilder};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{default_libcall_names, DataDescription, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use reward_runtime::meta::{self, SpecMeta, TermMeta};

use crate::jit::{build, native_isa, CodeFor};
use crate::scoring::Spec;

/// An exported C function: a wrapper that calls `target` in the runtime, passing the spec's
/// table first when `table` is set.
struct Export {
    name: &'static str,
    target: &'static str,
    params: &'static [types::Type],
    ret: types::Type,
    table: bool,
}

const EXPORTS: &[Export] = &[
    Export {
        name: "reward_score_json",
        target: "rt_capi_score_json",
        params: &[types::I64, types::I64, types::I64],
        ret: types::I32,
        table: true,
    },
    Export {
        name: "reward_score_batch",
        target: "rt_capi_score_batch",
        params: &[types::I64, types::I64, types::I64, types::I64],
        ret: types::I64,
        table: true,
    },
    Export {
        name: "reward_breakdown_json",
        target: "rt_capi_breakdown_json",
        params: &[types::I64, types::I64, types::I64, types::I64],
        ret: types::I64,
        table: true,
    },
    Export {
        name: "reward_last_error",
        target: "rt_capi_last_error",
        params: &[],
        ret: types::I64,
        table: false,
    },
];

/// Compiles a spec into a relocatable object file (ELF on Linux).
pub fn object_file(spec: &Spec) -> Result<Vec<u8>, String> {
    let program = &spec.program;
    if program.group.is_some() {
        // The C API scores one rollout per call; a group needs all of its rows.
        return Err(
            "this spec has a `group by` block: group-level terms need every row of a group, \
             which the C API (one rollout per call) does not see; score it with `reward score`"
                .into(),
        );
    }
    let isa = native_isa(CodeFor::SharedLibrary).map_err(|e| e.to_string())?;
    let builder = ObjectBuilder::new(isa, "reward_spec", default_libcall_names())
        .map_err(|e| e.to_string())?;
    let mut module = ObjectModule::new(builder);
    let built =
        build(&mut module, program, Linkage::Local, None, None).map_err(|e| e.to_string())?;

    let meta = SpecMeta {
        runtime: reward_runtime::abi::fingerprint(),
        schema: spec.input_type().clone(),
        terms: program
            .terms
            .iter()
            .map(|t| TermMeta {
                name: t.name.clone(),
                in_breakdown: t.in_breakdown,
            })
            .collect(),
        order: built.terms.iter().map(|(id, _)| *id).collect(),
        score: program.score,
        constants: built.constants.clone(),
        regexes: program
            .regexes
            .iter()
            .map(|r| (r.pattern.clone(), r.flags.clone()))
            .collect(),
        sites: built
            .sites
            .iter()
            .map(|s| {
                let (l, c) = spec.sources.line_col(*s);
                format!("{}:{l}:{c}", spec.sources.name(s.file))
            })
            .collect(),
        max_row_bytes: program.max_row_bytes,
    };
    let meta_bytes = meta::encode(&meta).into_bytes();
    let e = |x: cranelift_module::ModuleError| x.to_string();

    let meta_id = module
        .declare_data("reward_spec_meta", Linkage::Local, false, false)
        .map_err(e)?;
    let mut dd = DataDescription::new();
    let meta_len = meta_bytes.len();
    dd.define(meta_bytes.into_boxed_slice());
    module.define_data(meta_id, &dd).map_err(e)?;

    let terms_id = module
        .declare_data("reward_spec_terms", Linkage::Local, false, false)
        .map_err(e)?;
    let mut dd = DataDescription::new();
    dd.set_align(8);
    // Not `define_zeroinit`: zero-initialised data goes to .bss, which carries no relocations.
    dd.define(vec![0u8; 8 * built.terms.len().max(1)].into_boxed_slice());
    for (i, (_, fid)) in built.terms.iter().enumerate() {
        let f = module.declare_func_in_data(*fid, &mut dd);
        dd.write_function_addr((i * 8) as u32, f);
    }
    module.define_data(terms_id, &dd).map_err(e)?;

    // struct SpecTable { const u8 *meta; size_t meta_len; TermFn *terms; size_t n_terms; }
    let table_id = module
        .declare_data("reward_spec_table", Linkage::Local, false, false)
        .map_err(e)?;
    let mut dd = DataDescription::new();
    dd.set_align(8);
    let mut table = vec![0u8; 32];
    table[8..16].copy_from_slice(&(meta_len as u64).to_le_bytes());
    table[24..32].copy_from_slice(&(built.terms.len() as u64).to_le_bytes());
    dd.define(table.into_boxed_slice());
    let m = module.declare_data_in_data(meta_id, &mut dd);
    dd.write_data_addr(0, m, 0);
    let t = module.declare_data_in_data(terms_id, &mut dd);
    dd.write_data_addr(16, t, 0);
    module.define_data(table_id, &dd).map_err(e)?;

    let mut fbc = FunctionBuilderContext::new();
    let mut ctx = module.make_context();
    for export in EXPORTS {
        let mut inner = module.make_signature();
        if export.table {
            inner.params.push(AbiParam::new(types::I64));
        }
        inner
            .params
            .extend(export.params.iter().map(|p| AbiParam::new(*p)));
        inner.returns.push(AbiParam::new(export.ret));
        let target_id = module
            .declare_function(export.target, Linkage::Import, &inner)
            .map_err(e)?;
        let mut outer = module.make_signature();
        outer
            .params
            .extend(export.params.iter().map(|p| AbiParam::new(*p)));
        outer.returns.push(AbiParam::new(export.ret));
        let export_id = module
            .declare_function(export.name, Linkage::Export, &outer)
            .map_err(e)?;
        ctx.func.signature = outer;
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            let mut args = Vec::new();
            if export.table {
                let gv = module.declare_data_in_func(table_id, b.func);
                args.push(b.ins().symbol_value(types::I64, gv));
            }
            args.extend(b.block_params(entry).to_vec());
            let callee = module.declare_func_in_func(target_id, b.func);
            let call = b.ins().call(callee, &args);
            let result = b.inst_results(call)[0];
            b.ins().return_(&[result]);
            b.seal_all_blocks();
            b.finalize(module.target_config());
        }
        module.define_function(export_id, &mut ctx).map_err(e)?;
        module.clear_context(&mut ctx);
    }
    module.finish().emit().map_err(|x| x.to_string())
}

/// Where the runtime's static library is: `explicit`, else `$REWARD_RUNTIME_LIB`, else next to
/// the running `reward` executable (where cargo puts both).
pub fn find_runtime(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("REWARD_RUNTIME_LIB") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    for _ in 0..2 {
        let candidate = dir.join("libreward_runtime.a");
        if candidate.exists() {
            return Ok(candidate);
        }
        // Test binaries live in target/<profile>/deps.
        dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
    }
    Err("cannot find the runtime library libreward_runtime.a: build it with `cargo build --release -p reward-runtime` (it lands next to the reward binary), or pass --runtime PATH".into())
}

/// Links the object with the runtime into a shared library exporting only `reward_*`.
pub fn link(object: &[u8], runtime: &Path, output: &Path) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "reward-build-{}-{}",
        std::process::id(),
        output
            .file_name()
            .map_or("lib".into(), |n| n.to_string_lossy().into_owned())
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let obj_path = dir.join("spec.o");
    let script = dir.join("exports.map");
    std::fs::write(&obj_path, object).map_err(|e| e.to_string())?;
    std::fs::write(&script, "{\n  global: reward_*;\n  local: *;\n};\n")
        .map_err(|e| e.to_string())?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .arg("-shared")
        .arg("-o")
        .arg(output)
        .arg(&obj_path)
        .arg(runtime)
        .arg(format!("-Wl,--version-script={}", script.display()))
        .args(["-Wl,--gc-sections", "-lm", "-lpthread", "-ldl"])
        .output()
        .map_err(|e| format!("cannot run the C compiler `{cc}` to link: {e}"))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        return Err(format!(
            "linking failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The C header that goes beside the library.
pub fn header(spec: &Spec, lib_name: &str) -> String {
    let guard: String = lib_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let schema = spec.input_type().to_string();
    format!(
        r#"/* {lib_name}: a reward compiled by `reward build`. Generated; do not edit.
 *
 * A rollout is one JSON object with the spec's input columns:
 *   {schema}
 *
 * Status codes of reward_score_json:
 *   0 ok; 1 the input is not a valid rollout (bad UTF-8 or JSON, a field that does not fit);
 *   2 scoring failed for this rollout (e.g. an index out of range); 3 the score is none;
 *   4 internal error. On every non-zero status *score_out is NaN (never a stale value).
 *   reward_last_error() says why (per thread).
 * Every function is thread-safe and never aborts the calling process.
 */
#ifndef {guard}_H
#define {guard}_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

/* Scores one rollout (`len` bytes of JSON, no NUL needed). */
int reward_score_json(const char *json, size_t len, double *score_out);

/* Scores each line of a JSON Lines buffer into scores_out[i] (NaN for a line that could not
 * be scored or whose score is none). Returns the number of lines (only the first `capacity`
 * are written), or -1 on internal error. */
int64_t reward_score_batch(const char *jsonl, size_t len, double *scores_out, size_t capacity);

/* Writes the rollout's output record, exactly as `reward score` prints it (score and every
 * named term, or an error record), NUL-terminated into buf. Returns its length; if that is
 * >= capacity nothing useful was written: call again with a larger buffer. -1 on internal
 * error. */
int64_t reward_breakdown_json(const char *json, size_t len, char *buf, size_t capacity);

/* The message of the last failure on the calling thread ("" if none). */
const char *reward_last_error(void);

#ifdef __cplusplus
}}
#endif

#endif
"#
    )
}
