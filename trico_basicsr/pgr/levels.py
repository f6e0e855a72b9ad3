"""The three levels, named once, and how the paper's, the code's and the maths' names map onto each other.

| code (variable group) | paper level | objective | variables | what it is                              |
|-----------------------|-------------|-----------|-----------|-----------------------------------------|
| ``'sr'``              | lower (L)   | g         | theta_S   | the super-resolution network             |
| ``'illum'``           | middle (M)  | f         | theta_I   | the illumination network                 |
| ``'hyper'``           | upper (U)   | F         | lambda    | the hyper-variables (loss-term weights)  |

Options, logs (``l_sr``, ``lambda_illum_pixel``), optimizers (``optim_sr``) and checkpoints use the
code names; docs/pgr.md uses the maths names.
"""
LOWER = 'sr'
MIDDLE = 'illum'
UPPER = 'hyper'
LEVELS = (LOWER, MIDDLE, UPPER)
NETWORK_LEVELS = (LOWER, MIDDLE)  # the levels whose variables are network weights

VOCABULARY = {
    LOWER: {'paper': 'lower level (L)', 'objective': 'g', 'variables': 'theta_S', 'what': 'super-resolution network'},
    MIDDLE: {'paper': 'middle level (M)', 'objective': 'f', 'variables': 'theta_I', 'what': 'illumination network'},
    UPPER: {'paper': 'upper level (U)', 'objective': 'F', 'variables': 'lambda', 'what': 'hyper-variables'},
}
