//! Every generated WGSL kernel parses and validates with naga, and naga
//! translates it to SPIR-V, as wgpu does for Vulkan (no GPU needed).

#[test]
fn every_kernel_variant_validates() {
    let variants = kiln::backend::kernels::variants();
    assert!(
        variants.len() > 300,
        "expected every op and dtype, got {}",
        variants.len()
    );
    let mut failures = Vec::new();
    for k in &variants {
        let module = match naga::front::wgsl::parse_str(&k.source) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: {}", k.name, e.emit_to_string(&k.source)));
                continue;
            }
        };
        let mut validator = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        );
        let info = match validator.validate(&module) {
            Ok(info) => info,
            Err(e) => {
                failures.push(format!("{}: {}", k.name, e.emit_to_string(&k.source)));
                continue;
            }
        };
        // The SPIR-V writer can fail (or panic) on valid modules, and only
        // adapters with a feature (cooperative matrices) would reach it.
        let options = naga::back::spv::Options::default();
        let spirv = std::panic::catch_unwind(|| {
            naga::back::spv::write_vec(&module, &info, &options, None).map_err(|e| e.to_string())
        });
        match spirv {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => failures.push(format!("{}: SPIR-V: {e}", k.name)),
            Err(_) => failures.push(format!("{}: the SPIR-V writer panicked", k.name)),
        }
        if !module.entry_points.iter().any(|e| e.name == k.entry) {
            failures.push(format!("{}: no entry point {}", k.name, k.entry));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} kernels failed:\n{}",
        failures.len(),
        variants.len(),
        failures.join("\n")
    );
}
