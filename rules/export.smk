rule to_deepcave:
    output:
        directory(f"{RESULTS}/deepcave/{{dataset}}/{{optimizer}}/{{seed}}"),
    input:
        run=f"{RESULTS}/runs/{{dataset}}/{{optimizer}}/{{seed}}",
        code=SRC / "export" / "deepcave.py",
    params:
        nashpo=NASHPO,
    conda:
        "../envs/environment.yml"
    log:
        f"{RESULTS}/logs/deepcave/{{dataset}}/{{optimizer}}/{{seed}}.log",
    group:
        "search"
    shell:
        "{params.nashpo} to-deepcave --from trial-log {input.run} --out {output} --force > {log} 2>&1"
