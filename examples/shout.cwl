cwlVersion: v1.2
class: CommandLineTool
doc: Copies a text file in upper case.
baseCommand: [tr, a-z, A-Z]
stdin: $(inputs.text.path)
inputs:
  text: File
stdout: shouted.txt
outputs:
  out:
    type: stdout
