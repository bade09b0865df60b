"""What the checks need of each notebook's exercises beside a student's code, and nothing more.

    <topic>.py   the inputs the checks hand to a student's function (a decoder step, an RNN as a
                 function, an objective to differentiate) and the runners that judge what it does
                 (the samples it draws, the model it builds)
    views/       the generated, data-only view of each notebook's exercises (rnnkit.views)

Nothing here computes an answer: the declarations, hidden cases, references and mistake models
are the instructor's answer keys (rnnkit/grading/keys/).
"""
