cwlVersion: v1.2
class: CommandLineTool
doc: Prints a message into a file.
baseCommand: echo
inputs:
  message:
    type: string
    inputBinding: {position: 1}
stdout: message.txt
outputs:
  out:
    type: stdout
