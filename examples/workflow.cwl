cwlVersion: v1.2
class: Workflow
doc: Writes a message with echo.cwl, then shouts it with shout.cwl.
inputs:
  message: string
outputs:
  shouted:
    type: File
    outputSource: shout/out
steps:
  say:
    run: echo.cwl
    in: {message: message}
    out: [out]
  shout:
    run: shout.cwl
    in: {text: say/out}
    out: [out]
